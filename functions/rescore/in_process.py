"""A whole run in one process: the state machine's states called in its order (``statemachine/
rescore.asl.json``), with its failure paths (rollback after a failed switch, the run marked failed).
The one full pass for a Lambda invocation (task ``score_all``), a test or a command line that has no
state machine; the Distributed Map's partitions run one after the other."""

from __future__ import annotations

import json
import uuid
from contextlib import nullcontext
from typing import Any

from functions.rescore import activation, outcome, prepare, solve, write
from functions.rescore.artifacts import ArtifactStore
from functions.rescore.run import Run, RunRequest, TaskInputError, artifacts_in


def run_in_process(
    request: dict[str, Any], store: ArtifactStore | None = None, execution: str | None = None
) -> dict[str, Any]:
    """Run the workflow for ``request`` (the fields of a :class:`RunRequest`) and return what
    :func:`functions.rescore.outcome.finish` returns. ``store`` keeps the run's artifacts (default:
    the artifacts bucket). Exceptions propagate after the run is recorded as failed."""
    if RunRequest.model_validate(request).approval:
        raise TaskInputError("a run that waits for approval needs the state machine")
    execution = execution or f"inproc-{uuid.uuid4().hex[:16]}"
    with artifacts_in(store) if store is not None else nullcontext():
        return _run(dict(request), execution)


def _error(exc: BaseException) -> dict[str, str]:
    """The error as Step Functions hands it to a Catch (``Error``, ``Cause``)."""
    return {"Error": type(exc).__name__, "Cause": json.dumps({"errorMessage": str(exc)})}


def _run(state: dict[str, Any], execution: str) -> dict[str, Any]:
    try:
        state["run"] = prepare.prepare({"request": dict(state), "execution": execution})
    except Exception as exc:
        outcome.mark_failed(None, {"state": state | {"error": _error(exc)}, "execution": execution})
        raise
    run = Run.model_validate(state["run"])
    if run.skip:
        return outcome.finish(run, {"state": state})
    switched = False
    try:
        state["snapshot"] = snap = prepare.snapshot(run, {})
        parts = range(int(snap["partitions"]))
        if snap["solver"] == "single":
            state["solve"] = solve.solve_single(run, {})
        else:
            builds = [solve.build(run, {"partition": p}) for p in parts]
            solved = solve.setup_scalars(run, {"builds": builds})
            setups = [solve.setup(run, {"partition": p, "solve": solved}) for p in parts]
            while not solved["done"]:
                passes = [solve.iterate(run, {"partition": p, "solve": solved}) for p in parts]
                solved = solve.converge(run, {"solve": solved, "passes": passes, "setups": setups})
            state["components"] = [solve.components(run, {"partition": p, "solve": solved}) for p in parts]
            state["solve"] = solved
        state["calibration"] = solve.calibrate(run, {"solve": state["solve"], "state": state})
        shadow = [write.write_shadow(run, {"partition": p, "solve": state["solve"]}) for p in parts]
        state["report"] = write.report(run, {"snapshot": snap, "solve": state["solve"], "shadow": shadow})
        if run.activate:
            switched = True
            state["activation"] = activation.activate(run, {})
            state["refresh"] = [activation.refresh_partition(run, {"partition": p}) for p in parts]
        return outcome.finish(run, {"state": state})
    except Exception as exc:
        if switched:
            activation.rollback_activation(run, {"state": state})
        outcome.mark_failed(run, {"state": state | {"error": _error(exc)}})
        raise
