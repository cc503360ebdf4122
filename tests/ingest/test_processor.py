"""Processor: poison messages, dead-letter queue, opt-out, write units, idempotency across batches."""

from __future__ import annotations

import json
import time

from functions.ingest import processor, receiver
from functions.ingest.delivery import QueuedDelivery
from functions.shared import aws, keys
from renown.demo_payloads import twitter_delivery
from tests.ingest.conftest import SECRETS, Context, Stack, rest_event, sqs_event


def queued(engagements: list, delivery_id: str | None = None) -> dict:
    body, _ = twitter_delivery(engagements, {}, SECRETS["twitter"])
    delivery = QueuedDelivery(
        network="twitter",
        delivery_id=delivery_id or f"twitter:{hash(body)}",
        received_at=0,
        body=body.decode(),
    )
    return {"body": delivery.model_dump_json()}


def test_poison_messages_fail_alone(stack: Stack) -> None:
    now = int(time.time())
    good = [queued([("2", "1", "mention", now, "a")], "d1"), queued([("3", "1", "like", now, "b")], "d2")]
    poison = [
        {"body": "not json at all"},
        {"body": json.dumps({"network": "twitter"})},  # missing fields
        {
            "body": QueuedDelivery(
                network="myspace", delivery_id="d3", received_at=0, body="{}"
            ).model_dump_json()
        },
        {
            "body": QueuedDelivery(
                network="twitter", delivery_id="d4", received_at=0, body="{oops"
            ).model_dump_json()
        },
    ]
    event = sqs_event([good[0], poison[0], poison[1], good[1], poison[2], poison[3]])
    result = processor.handler(event, Context())
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {"m-1", "m-2", "m-4", "m-5"}
    edges = stack.table.scan(
        FilterExpression="begins_with(PK, :p)", ExpressionAttributeValues={":p": "EDGES#"}
    )
    assert {e["engager_id"] for e in edges["Items"]} == {"2", "3"}


def test_poison_message_reaches_the_dead_letter_queue(stack: Stack) -> None:
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody="poison")
    now = int(time.time())
    sqs.send_message(
        QueueUrl=stack.queue_url, MessageBody=queued([("2", "1", "mention", now, "a")], "ok")["body"]
    )
    for _ in range(8):  # what Lambda's SQS poller does: delete what succeeded, leave failures to come back
        messages = sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            continue
        result = processor.handler(sqs_event(messages), Context())
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"])
    dead = sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["poison"]
    assert stack.table.get_item(
        Key={"PK": keys.edges_pk("twitter", "1"), "SK": keys.engager_sk("twitter", "2")}
    )["Item"]


def test_opted_out_accounts_are_dropped_and_counted(stack: Stack, capsys) -> None:
    now = int(time.time())
    stack.table.put_item(Item={"PK": keys.optout_pk("twitter", "9"), "SK": keys.META_SK, "at": now})
    event = sqs_event(
        [
            queued(
                [
                    ("2", "1", "mention", now, "a"),
                    ("9", "1", "mention", now, "b"),
                    ("2", "9", "like", now, "c"),
                ]
            )
        ]
    )
    assert processor.handler(event, Context()) == {"batchItemFailures": []}
    items = stack.table.scan()["Items"]
    assert not [i for i in items if "#9" in i["PK"] and not i["PK"].startswith("OPTOUT#")]
    assert not [i for i in items if i["SK"].endswith("#9")]
    assert "ActivitiesDroppedOptOut" in capsys.readouterr().out


def test_write_units_per_engagement_stay_low_when_accounts_repeat(stack: Stack) -> None:
    """After first sight of the accounts, a delivery costs about one write per distinct pair."""
    now = int(time.time())
    engagers = [str(i) for i in range(10, 30)]
    processor.handler(
        sqs_event([queued([(e, "1", "mention", now, "warm") for e in engagers], "warm")]), Context()
    )
    engagements = [(e, "1", kind, now, "x") for e in engagers for kind in ("mention", "like", "reply")]
    before = processor.store().identity.known.copy()
    stats = processor.process_delivery(
        QueuedDelivery(
            network="twitter",
            delivery_id="batch",
            received_at=0,
            body=twitter_delivery(engagements, {}, b"k")[0].decode(),
        )
    )
    assert processor.store().identity.known == before
    # activities (one per engagement plus the reply/mention posts: 100) dominate; edges are one per pair
    assert stats["engagements"] == 60
    edges_and_counters = stats["items_written"] - stats["activities"]
    assert stats["activities"] == 100 and edges_and_counters == 20 + 21  # 20 edges, 21 counters


def test_receiver_to_processor_many_deliveries_exactly_once(stack: Stack) -> None:
    now = int(time.time())
    bodies = [
        twitter_delivery([(str(100 + i), "1", "mention", now, f"n{i}")], {}, SECRETS["twitter"])
        for i in range(30)
    ]
    for body, headers in bodies + bodies[:10]:  # ten network retries
        receiver.handler(rest_event("twitter", body=body, headers=headers), Context())
    messages = stack.receive_all()
    assert len(messages) == 30
    processor.handler(sqs_event(messages[:15]), Context())
    processor.handler(sqs_event(messages), Context())  # a redelivered batch
    counters = stack.table.get_item(Key={"PK": keys.account_pk("twitter", "1"), "SK": keys.COUNTERS_SK})[
        "Item"
    ]
    assert counters["received"] == 30
