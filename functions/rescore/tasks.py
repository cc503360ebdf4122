"""Lambda handler of the rescoring workflow's tasks. The state machine passes ``{"task": NAME, "input":
...}``; each task lives in :mod:`functions.rescore.workflow` (see ``statemachine/rescore.asl.json``).
``score_all`` (snapshot, solve, write and activate in one invocation) stays for direct use."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from functions.rescore import workflow
from functions.rescore.workflow import TaskInputError
from functions.shared.aws import table
from functions.shared.observability import logger
from functions.shared.settings import get_settings

__all__ = ["TASKS", "TaskInputError", "handler"]


class ScoreAllInput(BaseModel):
    """A one-invocation pass (``score_all``): the fields of a run request."""

    model_config = ConfigDict(extra="ignore")
    version: str = Field(
        default_factory=lambda: get_settings().algorithm_version,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
    )
    mode: Literal["release", "settle"] = "settle"
    activate: bool = True
    params_key: str | None = None
    now: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_event(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("detail"), dict):
            return data["detail"]
        return data


def score_all(payload: dict[str, Any]) -> dict[str, Any]:
    """Single-task path: snapshot, solve, calibrate, write and activate in one invocation."""
    from functions.rescore.full_pass import run_full_pass

    request = ScoreAllInput.model_validate(payload)
    summary = run_full_pass(
        table(), request.version, now=request.now or time.time(), activate=request.activate
    )
    return summary.as_dict()


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "score_all": score_all,
    "prepare": workflow.prepare,
    "snapshot": workflow.snapshot,
    "solve_single": workflow.solve_single,
    "build": workflow.build,
    "setup_scalars": workflow.setup_scalars,
    "setup": workflow.setup,
    "iterate": workflow.iterate,
    "converge": workflow.converge,
    "components": workflow.components,
    "calibrate": workflow.calibrate,
    "write_shadow": workflow.write_shadow,
    "report": workflow.report,
    "request_approval": workflow.request_approval,
    "activate": workflow.activate,
    "refresh": workflow.refresh_partition,
    "rollback_activation": workflow.rollback_activation,
    "finish": workflow.finish,
    "mark_failed": workflow.mark_failed,
}


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = event.get("task")
    if name not in TASKS:
        raise TaskInputError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
    logger.info(
        "rescore task", extra={"task": name, "partition": (event.get("input") or {}).get("partition")}
    )
    try:
        return TASKS[name](event.get("input") or {})
    except ValidationError as exc:
        raise TaskInputError(f"{name}: {exc}") from exc
