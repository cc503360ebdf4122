"""Lambda handler of the rescoring workflow's tasks. The state machine passes ``{"task": NAME, "input":
...}`` (see ``statemachine/rescore.asl.json``); the dispatcher validates the run context (``$.run``, or
``$.state.run`` for the end states) once and hands it to the task.

Where the tasks live: :mod:`~functions.rescore.prepare` (prepare, snapshot),
:mod:`~functions.rescore.solve` (the single task, the Distributed Map steps, calibrate),
:mod:`~functions.rescore.write` (shadow write, report), :mod:`~functions.rescore.activation` (approval,
activation, refresh, rollback), :mod:`~functions.rescore.outcome` (finish, mark failed). ``score_all``
runs them all in one invocation (:mod:`~functions.rescore.in_process`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.rescore import activation, outcome, prepare, solve, write
from functions.rescore.in_process import run_in_process
from functions.rescore.run import Run, TaskInputError
from functions.shared.observability import logger

__all__ = ["RUN_TASKS", "TaskInputError", "handler"]

RunTask = Callable[[Run, dict[str, Any]], dict[str, Any]]

#: tasks of a run that exists: they receive the validated :class:`Run`
RUN_TASKS: dict[str, RunTask] = {
    "snapshot": prepare.snapshot,
    "solve_single": solve.solve_single,
    "build": solve.build,
    "setup_scalars": solve.setup_scalars,
    "setup": solve.setup,
    "iterate": solve.iterate,
    "converge": solve.converge,
    "components": solve.components,
    "calibrate": solve.calibrate,
    "write_shadow": write.write_shadow,
    "report": write.report,
    "request_approval": activation.request_approval,
    "activate": activation.activate,
    "refresh": activation.refresh_partition,
    "rollback_activation": activation.rollback_activation,
    "finish": outcome.finish,
}


def score_all(payload: dict[str, Any]) -> dict[str, Any]:
    """The whole workflow in one invocation; ``payload`` is a run request (or an event carrying one)."""
    return run_in_process(payload)


#: tasks before a run exists (the request is theirs to validate)
REQUEST_TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "prepare": prepare.prepare,
    "score_all": score_all,
}


def run_of(payload: dict[str, Any]) -> Run | None:
    """The run context of a task's input: ``run``, or ``state.run`` for the states that get the whole
    state (finish, rollback, mark failed); None when there is none."""
    data = payload.get("run")
    if data is None:
        data = (payload.get("state") or {}).get("run")
    return Run.model_validate(data) if data else None


def dispatch(name: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Run task ``name`` on ``payload``: :class:`TaskInputError` for an unknown task or a bad input."""
    try:
        if name in REQUEST_TASKS:
            return REQUEST_TASKS[name](payload)
        if name == "mark_failed":  # Prepare itself may have failed: no run then
            return outcome.mark_failed(run_of(payload), payload)
        if name in RUN_TASKS:
            run = run_of(payload)
            if run is None:
                raise TaskInputError(f"{name}: the input has no run")
            return RUN_TASKS[name](run, payload)
    except ValidationError as exc:
        raise TaskInputError(f"{name}: {exc}") from exc
    known = sorted([*RUN_TASKS, *REQUEST_TASKS, "mark_failed"])
    raise TaskInputError(f"unknown task {name!r}; expected one of {known}")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = event.get("task")
    logger.info(
        "rescore task", extra={"task": name, "partition": (event.get("input") or {}).get("partition")}
    )
    return dispatch(name, event.get("input") or {})
