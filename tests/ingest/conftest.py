"""Fixtures of the ingest tests: the test secrets, the ingest resources on moto (from the root conftest),
and helpers to drive the handlers like Lambda would."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from functions.ingest import processor, receiver
from functions.shared import aws
from functions.shared.settings import get_settings
from renown.local.template import ACCOUNT, REGION
from tests.conftest import ROOT, create_idempotency_table, create_ingest_queues, create_table

SECRETS = {
    "twitter": b"test-secret-twitter",
    "facebook": b"test-secret-facebook",
    "instagram": b"test-secret-instagram",
    "linkedin": b"test-secret-linkedin",
    "youtube": b"test-secret-youtube",
    "mastodon": b"test-secret-mastodon",
}
VERIFY = {"facebook": "verify-fb", "instagram": "verify-ig", "youtube": "verify-yt"}


@pytest.fixture()
def env(moto_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The moto environment plus the test secrets; a queue URL filled in by ``stack``."""
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "RenownTest")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")
    for network, secret in SECRETS.items():
        monkeypatch.setenv(f"RENOWN_SECRET_{network.upper()}", secret.decode())
    for network, token in VERIFY.items():
        monkeypatch.setenv(f"RENOWN_VERIFY_TOKEN_{network.upper()}", token)
    yield dict(os.environ)
    get_settings.cache_clear()


@dataclass
class Stack:
    queue_url: str
    dlq_url: str

    @property
    def table(self) -> Any:
        return aws.table()

    def receive_all(self) -> list[dict[str, Any]]:
        """Drain the ingest queue (as Lambda's poller would)."""
        sqs = aws.client("sqs")
        out: list[dict[str, Any]] = []
        while True:
            answer = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            )
            messages = answer.get("Messages", [])
            if not messages:
                return out
            for message in messages:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            out.extend(messages)


def _forget_handler_state() -> None:
    aws.reset_clients()
    processor.store.cache_clear()
    processor.idempotency.cache_clear()
    receiver._guard.cache_clear()


@pytest.fixture()
def stack(env: dict[str, str], moto: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The single table (with its stream), the idempotency table and the ingest queues on moto."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    create_table(ddb)
    create_idempotency_table(ddb)
    queue, dlq = create_ingest_queues(boto3.client("sqs", region_name=REGION), VisibilityTimeout=0)
    monkeypatch.setenv("RENOWN_INGEST_QUEUE_URL", queue)
    get_settings.cache_clear()
    _forget_handler_state()
    yield Stack(queue, dlq)
    _forget_handler_state()


def rest_event(
    network: str,
    method: str = "POST",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    binary: bool = False,
) -> dict[str, Any]:
    """A REST (v1) proxy event as API Gateway sends it (both header maps)."""
    headers = headers or {}
    text: str | None = None
    if body is not None:
        text = base64.b64encode(body).decode() if binary else body.decode("utf-8", "surrogateescape")
    return {
        "resource": "/webhooks/{network}",
        "path": f"/webhooks/{network}",
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"network": network},
        "requestContext": {"requestId": str(uuid.uuid4()), "requestTimeEpoch": int(time.time() * 1000)},
        "body": text,
        "isBase64Encoded": binary,
    }


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Turn received SQS messages (or raw bodies) into the event Lambda delivers."""
    records = []
    for i, message in enumerate(messages):
        body = message["Body"] if "Body" in message else message["body"]
        records.append(
            {
                "messageId": message.get("MessageId", f"m-{i}"),
                "receiptHandle": message.get("ReceiptHandle", f"rh-{i}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(time.time() * 1000)),
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:renown-ingest",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def problem_of(response: dict[str, Any]) -> dict[str, Any]:
    assert response["headers"]["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response["body"])
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    return body


EVENTS = ROOT / "events"
SAMPLE_TIME = 1_764_000_000  # when the samples in events/ were sent
WEBHOOK_NETWORKS = ("twitter", "facebook", "instagram", "linkedin", "youtube", "mastodon")


def samples(network: str) -> list[Any]:
    """Delivery bodies recorded under events/<network>/ (handshakes excluded)."""
    return sorted(
        p for p in (EVENTS / network).iterdir() if p.suffix in (".json", ".xml") and p.stem != "handshake"
    )


@pytest.fixture()
def at_sample_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver's clock set to just after the samples were sent."""
    monkeypatch.setattr(receiver, "clock", lambda: SAMPLE_TIME + 5.0)
