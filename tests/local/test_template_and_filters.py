"""The local stack reads names and environment from template.yaml, and filters streams like Lambda."""

from __future__ import annotations

from pathlib import Path

from renown.local.pollers import matches
from renown.local.template import LocalTemplate

ROOT = Path(__file__).resolve().parents[2]


def test_function_environment_resolves_refs_to_local_resources() -> None:
    tpl = LocalTemplate.load(ROOT / "template.yaml")
    tpl.endpoint = "http://127.0.0.1:5000"
    env = tpl.functions()["WebhookReceiverFunction"].environment
    assert env["RENOWN_TABLE_NAME"] == tpl.physical["RenownTable"]
    assert (
        env["RENOWN_INGEST_QUEUE_URL"] == f"http://127.0.0.1:5000/123456789012/{tpl.physical['IngestQueue']}"
    )
    # secrets come from Secrets Manager in AWS: locally they are left to the settings' defaults
    assert not any(k.startswith("RENOWN_SECRET_") for k in env)


def test_state_machine_definition_substitutes_function_arns() -> None:
    tpl = LocalTemplate.load(ROOT / "template.yaml")
    text = tpl.state_machine_definition("RescoreStateMachine")
    assert "${" not in text
    assert tpl.physical["RescoreTaskFunction"] in text


def test_stream_filter_pattern_prefix() -> None:
    pattern = {"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "EDGES#"}]}}}}
    assert matches(pattern, {"dynamodb": {"Keys": {"PK": {"S": "EDGES#twitter#1"}}}})
    assert not matches(pattern, {"dynamodb": {"Keys": {"PK": {"S": "PROFILE#p"}}}})
    assert not matches(pattern, {"dynamodb": {}})
    assert matches({"eventName": ["INSERT", "MODIFY"]}, {"eventName": "MODIFY"})
