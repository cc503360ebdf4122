"""The release event: what `renown release` sends matches the template's EventBridge rule, and the
state machine's input model reads it (moto cannot deliver EventBridge events to Step Functions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from functions.rescore.run import RunRequest
from renown.commands.release import event_for

ROOT = Path(__file__).resolve().parents[2]


def _rule_pattern() -> dict[str, Any]:
    doc = yaml_parse((ROOT / "template.yaml").read_text())
    events = doc["Resources"]["RescoreStateMachine"]["Properties"]["Events"]
    pattern: dict[str, Any] = events["AlgorithmReleased"]["Properties"]["Pattern"]
    return pattern


def _full(event: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": "1",
            "account": "123456789012",
            "time": "2025-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            **event,
        }
    )


def test_release_event_matches_the_rule_and_parses() -> None:
    from moto.events.models import EventPattern

    event = event_for("v2", mode="release", params_key="releases/v2/params.json")
    pattern = EventPattern.load(json.dumps(_rule_pattern()))  # moto's EventBridge matcher
    assert pattern.matches_event(json.loads(_full(event)))
    assert not pattern.matches_event(json.loads(_full(dict(event, source="someone.else"))))
    assert not pattern.matches_event(json.loads(_full({**event, "detail-type": "Other"})))
    request = RunRequest.model_validate(event)
    assert (request.version, request.mode, request.params_key) == ("v2", "release", "releases/v2/params.json")


def test_schedule_input_is_a_settle_run_of_the_active_version() -> None:
    doc = yaml_parse((ROOT / "template.yaml").read_text())
    schedule = doc["Resources"]["RescoreStateMachine"]["Properties"]["Events"]["DailySettle"]["Properties"]
    request = RunRequest.model_validate(json.loads(schedule["Input"]))
    assert request.mode == "settle" and request.version is None  # Prepare resolves the active version
