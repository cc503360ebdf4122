"""The template check must pass on our template and catch the mistakes it exists for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from renown.template_check import expand, lint_expanded, load_template, prepare_offline

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def template() -> dict:
    return load_template(ROOT / "template.yaml")


def _findings(template: dict) -> list[str]:
    return lint_expanded(expand(prepare_offline(template, ROOT)))


def test_our_template_expands_and_lints_clean(template: dict) -> None:
    expanded = expand(prepare_offline(template, ROOT))
    assert "AWS::Lambda::Function" in {r["Type"] for r in expanded["Resources"].values()}
    assert lint_expanded(expanded) == []


def test_catches_a_wrong_runtime(template: dict) -> None:
    template["Resources"]["ApiFunction"]["Properties"]["Runtime"] = "python3.99"
    assert any("python3.99" in f for f in _findings(template))


def test_catches_a_wrong_stream_attribute(template: dict) -> None:
    events = template["Resources"]["ScoreUpdaterFunction"]["Properties"]["Events"]
    events["Stream"]["Properties"]["Stream"] = {"Fn::GetAtt": ["RenownTable", "StreamArnX"]}
    assert any("StreamArnX" in f for f in _findings(template))


def test_every_queue_has_a_dead_letter_queue(template: dict) -> None:
    queues = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::SQS::Queue"}
    dead = {k for k, v in queues.items() if "RedrivePolicy" not in v.get("Properties", {})}
    targets = {
        v["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for k, v in queues.items()
        if k not in dead
    }
    # failure destinations (stream on-failure, async dead-letter) are dead-letter queues too
    text = json.dumps(template["Resources"])
    for name in dead - targets:
        if f'"Fn::GetAtt": ["{name}", "Arn"]' in text and name.endswith(("FailureQueue", "DeadLetterQueue")):
            targets.add(name)
    assert dead == targets, "every queue either has a DLQ or is one"
