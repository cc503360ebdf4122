"""The whole path on the local stack: signed webhook in, queue, processor, table, the rescoring state
machine, and the score out through the API with a key."""

from __future__ import annotations

import time
from typing import Any

import requests

from renown.demo_payloads import twitter_delivery
from renown.local.demo_runner import DemoRunner
from renown.local.stack import LocalStack

# account ids of this test only (the stack session is shared: other tests load Higgs accounts)
AUTHOR, OTHER, FAN = "9100000100", "9100000200", 9100001000


def _deliveries(secret: bytes, now: int) -> list[tuple[bytes, dict[str, str]]]:
    # AUTHOR is mentioned by ten different people and replied to by two; OTHER by one person
    engagements = [(str(FAN + i), AUTHOR, "mention", now - 3600 + i, "#higgs news") for i in range(10)]
    engagements += [
        (str(FAN), AUTHOR, "reply", now - 60, "#cern great"),
        (str(FAN + 1), AUTHOR, "reply", now - 50, "yes"),
    ]
    out = [twitter_delivery(engagements, {}, secret)]
    out.append(twitter_delivery([(str(FAN), OTHER, "mention", now - 10, "hi")], {}, secret))
    return out


def _edge_counts(stack: LocalStack) -> dict[str, Any]:
    table = stack.moto.client("dynamodb")
    name = stack.template.physical["RenownTable"]
    found: dict[str, Any] = {}
    for author in (AUTHOR, OTHER):
        items = table.query(
            TableName=name,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"EDGES#twitter#{author}"}},
        )
        for i in items["Items"]:
            found[f"{i['PK']['S']}|{i['SK']['S']}"] = {k: v for k, v in i.items() if k.startswith("c_")}
    return found


def test_webhook_to_score_through_the_api(
    stack: LocalStack, runner: DemoRunner, api_headers: dict[str, Any]
) -> None:
    from functions.shared.settings import get_settings

    secret = get_settings().webhook_secret("twitter")
    deliveries = _deliveries(secret, int(time.time()))
    for body, headers in deliveries:
        reply = requests.post(f"{stack.url}/webhooks/twitter", data=body, headers=headers, timeout=30)
        assert reply.status_code == 200, reply.text
    assert runner.drain(timeout_s=60)
    edges = _edge_counts(stack)
    assert len(edges) == 11

    # a network retry of the same delivery changes nothing
    body, headers = deliveries[0]
    retry = requests.post(f"{stack.url}/webhooks/twitter", data=body, headers=headers, timeout=30)
    assert retry.status_code in (200, 409), retry.text  # acknowledged or refused as a replay
    assert runner.drain(timeout_s=60)
    assert _edge_counts(stack) == edges

    summary = runner.score()
    assert summary["profiles"] >= 12

    found = requests.get(f"{stack.url}/v1/identity/twitter/id/{AUTHOR}", headers=api_headers, timeout=10)
    assert found.status_code == 200, found.text
    profile_id = found.json()["profile_id"]
    score = requests.get(
        f"{stack.url}/v1/profiles/{profile_id}/score", headers=api_headers, timeout=10
    ).json()
    other_id = requests.get(
        f"{stack.url}/v1/identity/twitter/id/{OTHER}", headers=api_headers, timeout=10
    ).json()["profile_id"]
    other = requests.get(f"{stack.url}/v1/profiles/{other_id}/score", headers=api_headers, timeout=10).json()
    assert 1 <= other["score"] < score["score"] <= 100
    assert score["algorithm_version"]

    assert requests.get(f"{stack.url}/v1/profiles/{profile_id}/score", timeout=10).status_code == 401


def test_bad_signature_is_rejected_and_nothing_is_queued(stack: LocalStack, runner: DemoRunner) -> None:
    body, headers = twitter_delivery([("1", "2", "mention", int(time.time()), "x")], {}, b"wrong secret")
    reply = requests.post(f"{stack.url}/webhooks/twitter", data=body, headers=headers, timeout=30)
    assert reply.status_code == 401
    assert runner.queue_empty()


def test_health_and_docs(stack: LocalStack) -> None:
    assert requests.get(f"{stack.url}/health", timeout=10).status_code == 200
    assert requests.get(f"{stack.url}/openapi.json", timeout=10).json()["openapi"].startswith("3.")
