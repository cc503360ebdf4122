"""End to end against a deployed stack: a signed webhook in, the rescoring release run to completion,
the score out through the API with a key.

Runs when ``AWS_SAM_STACK_NAME`` names a deployed stack and AWS credentials are configured; skipped
otherwise. It needs the stack's Twitter webhook secret (``RENOWN_E2E_TWITTER_SECRET``, the value of
``RENOWN_SECRET_TWITTER`` in the stack's secret). It creates an API key in the stack's usage plan and
registers it with the API (``APIKEY#`` item), and removes both at the end. Everything it writes is
about synthetic accounts ``e2e-<run>-*``. See docs/deploy.md.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STACK = os.environ.get("AWS_SAM_STACK_NAME", "")


def _skip_reason() -> str | None:
    if not STACK:
        return "no deployed stack: set AWS_SAM_STACK_NAME (and AWS credentials) to run the deployed suite"
    try:
        import boto3

        if boto3.session.Session().get_credentials() is None:
            return f"AWS_SAM_STACK_NAME={STACK} but no AWS credentials are configured"
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"boto3 cannot load credentials: {exc}"
    if not os.environ.get("RENOWN_E2E_TWITTER_SECRET"):
        return "set RENOWN_E2E_TWITTER_SECRET to the stack's RENOWN_SECRET_TWITTER to sign the webhook"
    return None


_reason = _skip_reason()
if _reason:
    pytestmark.append(pytest.mark.skip(reason=_reason))


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture(scope="module")
def api_key(outputs: dict[str, str]) -> Iterator[str]:
    """A fresh key in the stack's usage plan, registered with the API; deleted afterwards."""
    import boto3

    from functions.api.security import hash_api_key
    from functions.shared import keys

    gateway = boto3.client("apigateway")
    rest_api_id = outputs["UsagePlanApiKeyHint"]
    plans = [
        p
        for p in gateway.get_usage_plans(limit=500)["items"]
        if any(stage["apiId"] == rest_api_id for stage in p.get("apiStages", []))
    ]
    assert plans, f"no usage plan for REST API {rest_api_id}"
    value = "e2e_" + secrets.token_urlsafe(24)
    key = gateway.create_api_key(name=f"renown-e2e-{uuid.uuid4().hex[:8]}", enabled=True, value=value)
    gateway.create_usage_plan_key(usagePlanId=plans[0]["id"], keyId=key["id"], keyType="API_KEY")
    table = boto3.resource("dynamodb").Table(outputs["TableName"])
    item = {"PK": keys.apikey_pk(hash_api_key(value)), "SK": keys.META_SK}
    table.put_item(
        Item={**item, "key_hash": hash_api_key(value), "owner": "e2e", "created_at": int(time.time())}
    )
    time.sleep(10)  # API Gateway takes a few seconds to accept a new key
    try:
        yield value
    finally:
        table.delete_item(Key=item)
        gateway.delete_api_key(apiKey=key["id"])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    import requests

    reply = requests.get(url, headers=headers or {}, timeout=30)
    try:
        return reply.status_code, reply.json()
    except ValueError:
        return reply.status_code, reply.text


def test_signed_webhook_release_run_and_score_through_the_api(outputs: dict[str, str], api_key: str) -> None:
    import boto3
    import requests

    from renown.demo_payloads import twitter_delivery

    run = uuid.uuid4().hex[:8]
    now = int(time.time())
    author = f"e2e{run}100"
    engagements = [(f"e2e{run}{1000 + i}", author, "mention", now - 600 + i, "#e2e") for i in range(8)]
    body, headers = twitter_delivery(engagements, {}, os.environ["RENOWN_E2E_TWITTER_SECRET"].encode())

    # 1. a signed webhook in (and a badly signed one refused)
    reply = requests.post(f"{outputs['WebhookUrl']}/twitter", data=body, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    bad = {**headers, "x-twitter-webhooks-signature": "sha256=AAAA"}
    assert (
        requests.post(f"{outputs['WebhookUrl']}/twitter", data=body, headers=bad, timeout=30).status_code
        == 401
    )

    # 2. the engagement edges land (queue -> processor -> table)
    table = boto3.resource("dynamodb").Table(outputs["TableName"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        edges = table.query(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": f"EDGES#twitter#{author}"}
        )["Items"]
        if len(edges) == len(engagements):
            break
        time.sleep(3)
    assert len(edges) == len(engagements), edges

    # 3. a release run of the rescoring state machine, to completion
    sfn = boto3.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=outputs["StateMachineArn"],
        name=f"e2e-{run}",
        input=json.dumps({"mode": "release", "activate": True}),
    )["executionArn"]
    deadline = time.monotonic() + 900
    status = "RUNNING"
    while status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(5)
        status = sfn.describe_execution(executionArn=execution)["status"]
    assert status == "SUCCEEDED", sfn.describe_execution(executionArn=execution)

    # 4. the score out through the API, with the key (and refused without one, with CORS headers)
    base = outputs["ApiUrl"]
    code, found = _get(f"{base}/v1/identity/twitter/id/{author}", {"x-api-key": api_key})
    assert code == 200, found
    code, score = _get(f"{base}/v1/profiles/{found['profile_id']}/score", {"x-api-key": api_key})
    assert code == 200, score
    assert 1 <= score["score"] <= 100
    refused = requests.get(f"{base}/v1/profiles/{found['profile_id']}/score", timeout=30)
    assert refused.status_code in (401, 403)
    assert refused.headers.get("access-control-allow-origin") == "*"
    preflight = requests.options(
        f"{base}/v1/profiles/{found['profile_id']}/score",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    assert preflight.status_code == 200, "a CORS preflight needs no key"
