"""Lambda handler of the rescoring workflow's tasks. The state machine passes ``{"task": NAME, ...}``;
each task validates its input with a pydantic model and calls a use case."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from functions.shared.aws import table
from functions.shared.observability import logger
from functions.shared.settings import get_settings


class TaskInputError(ValueError):
    """The workflow passed a task input that does not validate (the run fails with this error)."""


class ScoreAllInput(BaseModel):
    """A run request: an EventBridge ``AlgorithmReleased`` event (its ``detail``), the daily schedule's
    ``{"mode": "settle"}``, or the same fields given directly."""

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
}


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = event.get("task")
    if name not in TASKS:
        raise TaskInputError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
    try:
        return TASKS[name](event.get("input") or {})
    except ValidationError as exc:
        raise TaskInputError(f"{name}: {exc}") from exc
