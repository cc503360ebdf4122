"""The wiring of the rescoring state machine (statemachine/rescore.asl.json), read as data.

The stack tests (tests/stack/test_rescore_workflow.py) run a failure injected into a few steps on moto's
interpreter; this module checks every step the same way without running it: each task names a task the
dispatcher knows, retries transient errors but never the errors a retry cannot fix, and a failure
anywhere reaches the run's failure path (before the switch: ``MarkFailed``; from the switch on:
``RollbackActivation`` first). A step added without its ``Catch`` fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.rescore.tasks import REQUEST_TASKS, RUN_TASKS

ASL = Path(__file__).resolve().parents[2] / "statemachine" / "rescore.asl.json"
FINAL_ERRORS = {"TaskInputError", "ReleaseConflictError", "ActivationConflictError", "PartitionsFailedError"}
AFTER_SWITCH = {"Activate", "Refresh", "Finish"}  # the active version has moved: roll back first
TERMINAL = {"MarkFailed", "Failed", "RollbackActivation", "AlreadyDone"}


def _machine() -> dict[str, Any]:
    machine: dict[str, Any] = json.loads(ASL.read_text())
    return machine


def _states(states: dict[str, Any], inner: bool = False) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Every state with whether it runs inside a Map's item processor."""
    for name, state in states.items():
        yield name, state, inner
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _states(processor["States"], inner=True)


def _task_name(name: str, state: dict[str, Any], outer: dict[str, Any]) -> str | None:
    """The dispatcher task a Task state runs (a Map's items carry it in the Map's ``ItemSelector``)."""
    parameters = state.get("Parameters") or {}
    parameters = parameters.get("Payload", parameters)  # a callback task wraps its input in Payload
    if "task" in parameters:
        return str(parameters["task"])
    for parent in outer.values():
        processor = parent.get("ItemProcessor") or parent.get("Iterator")
        if processor and name in processor["States"]:
            return str((parent.get("ItemSelector") or {}).get("task"))
    return None


def test_every_task_names_a_task_the_dispatcher_knows() -> None:
    machine = _machine()
    known = {*RUN_TASKS, *REQUEST_TASKS, "mark_failed"}
    seen = set()
    for name, state, _inner in _states(machine["States"]):
        if state["Type"] != "Task":
            continue
        task = _task_name(name, state, machine["States"])
        assert task in known, (name, task)
        seen.add(task)
    # every run task of the dispatcher is reachable from the machine
    assert set(RUN_TASKS) <= seen, set(RUN_TASKS) - seen


@pytest.mark.parametrize(
    "name", [n for n, s, _ in _states(_machine()["States"]) if s["Type"] == "Task" and n != "AwaitApproval"]
)
def test_every_task_retries_transient_errors_only(name: str) -> None:
    state = next(s for n, s, _ in _states(_machine()["States"]) if n == name)
    retries = state.get("Retry", [])
    assert retries, name
    final = [r for r in retries if set(r["ErrorEquals"]) & FINAL_ERRORS]
    transient = [r for r in retries if r["ErrorEquals"] == ["States.ALL"]]
    if name != "MarkFailed":
        # the errors no retry can fix come first (the first matching retrier wins) and are not retried
        assert retries[0] in final and all(r["MaxAttempts"] == 0 for r in final), name
        assert set(final[0]["ErrorEquals"]) == FINAL_ERRORS, name
    assert transient and 1 <= transient[0]["MaxAttempts"] <= 3, name


def test_a_failure_anywhere_reaches_the_failure_path() -> None:
    states = _machine()["States"]
    for name, state, inner in _states(states):
        if state["Type"] not in ("Task", "Map") or name in TERMINAL:
            continue
        if inner:
            # an item's failure fails its Map, whose Catch takes over
            assert not state.get("Catch"), name
            continue
        catches = state.get("Catch", [])
        assert [c["ErrorEquals"] for c in catches] == [["States.ALL"]], name
        expected = "RollbackActivation" if name in AFTER_SWITCH else "MarkFailed"
        assert catches[0]["Next"] == expected, name
        assert catches[0]["ResultPath"] == "$.error", name  # the run's input is kept for the failure path
    assert states["RollbackActivation"]["Catch"][0]["Next"] == "MarkFailed"
    assert states["MarkFailed"]["Catch"][0]["Next"] == "Failed"
    assert states["Failed"]["Type"] == "Fail"


def test_every_state_is_reachable_and_every_next_exists() -> None:
    states = _machine()["States"]
    machine = _machine()
    reached: set[str] = set()
    todo = [machine["StartAt"]]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        assert name in states, name
        reached.add(name)
        state = states[name]
        nexts = [state.get("Next"), state.get("Default")]
        nexts += [c.get("Next") for c in state.get("Choices", [])]
        nexts += [c.get("Next") for c in state.get("Catch", [])]
        todo += [n for n in nexts if n]
    assert reached == set(states), set(states) - reached
