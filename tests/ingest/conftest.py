"""Fixtures: an in-process moto account with the Renown table, the idempotency table and the ingest
queue (with its dead-letter queue), and helpers to drive the handlers like Lambda would."""

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
from moto import mock_aws

from functions.shared import aws
from functions.shared.settings import get_settings
from tests.api.seed import create_table

SECRETS = {
    "twitter": b"test-secret-twitter",
    "facebook": b"test-secret-facebook",
    "instagram": b"test-secret-instagram",
    "linkedin": b"test-secret-linkedin",
    "youtube": b"test-secret-youtube",
    "mastodon": b"test-secret-mastodon",
}
VERIFY = {"facebook": "verify-fb", "instagram": "verify-ig", "youtube": "verify-yt"}


@dataclass
class Context:
    function_name: str = "test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id: str = "req"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def create_tables() -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb, stream=True)
    ddb.create_table(
        TableName="renown-idempotency",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Settings for the tests: test secrets, a queue URL filled in by ``stack``."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "RenownTest")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")
    monkeypatch.delenv("RENOWN_AWS_ENDPOINT_URL", raising=False)
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


@pytest.fixture()
def stack(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    from functions.ingest import processor, receiver

    with mock_aws():
        create_tables()
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq = sqs.create_queue(QueueName="ingest-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queue = sqs.create_queue(
            QueueName="ingest",
            Attributes={
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
                "VisibilityTimeout": "0",
            },
        )["QueueUrl"]
        monkeypatch.setenv("RENOWN_INGEST_QUEUE_URL", queue)
        get_settings.cache_clear()
        aws.reset_clients()
        processor.store.cache_clear()
        processor.idempotency.cache_clear()
        receiver._guard.cache_clear()
        yield Stack(queue, dlq)
        aws.reset_clients()
        processor.store.cache_clear()
        processor.idempotency.cache_clear()
        receiver._guard.cache_clear()


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
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ingest",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def problem_of(response: dict[str, Any]) -> dict[str, Any]:
    assert response["headers"]["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response["body"])
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    return body


ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
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
    from functions.ingest import receiver

    monkeypatch.setattr(receiver, "clock", lambda: SAMPLE_TIME + 5.0)


@pytest.fixture(autouse=True)
def checked_moto_transactions() -> Iterator[None]:
    """moto's transactions without its per-item table copies, as the local stack runs them
    (``renown.local.moto_process.checked_transactions``)."""
    from renown.local.moto_process import checked_transactions

    undo = checked_transactions()
    yield
    undo()
