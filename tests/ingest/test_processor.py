"""Processor: poison messages, dead-letter queue, opt-out, write units, idempotency across batches."""

from __future__ import annotations

import json
import time

import pytest

from functions.ingest import processor, receiver
from functions.ingest.delivery import QueuedDelivery
from functions.shared import aws, keys
from renown.demo_payloads import twitter_delivery
from tests.conftest import LambdaContext
from tests.ingest.conftest import SECRETS, Stack, rest_event, sqs_event


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
    result = processor.handler(event, LambdaContext())
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
        result = processor.handler(sqs_event(messages), LambdaContext())
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
    assert processor.handler(event, LambdaContext()) == {"batchItemFailures": []}
    items = stack.table.scan()["Items"]
    naming_9 = [i for i in items if "9" in i["PK"].split("#")[1:] or "9" in i["SK"].split("#")[1:]]
    assert not [i for i in naming_9 if not i["PK"].startswith("OPTOUT#")]
    assert "ActivitiesDroppedOptOut" in capsys.readouterr().out


WRITE_CASES = {
    # name: (engagements per engager, text, expected items written for 20 distinct engagers -> "1"):
    # one claim per engagement plus one edge per distinct pair, in one transaction
    "20 likes": (("like",), "x", 20 + 20),
    "20 mentions (each also a post)": (("mention",), "x", 20 + 20),
    "60 (mention + like + reply per engager)": (("mention", "like", "reply"), "x", 60 + 20),
    "20 mentions with '#higgs news' (terms ride on the edge)": (("mention",), "#higgs news", 20 + 20),
}


@pytest.mark.parametrize("case", list(WRITE_CASES))
def test_write_units_per_engagement_at_most_one(stack: Stack, case: str) -> None:
    """After first sight of the accounts, an engagement costs its claim (counted once, see ``claims``)
    plus its edge ADD (one per distinct pair, topic evidence riding on it), all in one transaction."""
    kinds, text, expected = WRITE_CASES[case]
    now = int(time.time())
    engagers = [str(i) for i in range(10, 30)]
    processor.handler(
        sqs_event([queued([(e, "1", "mention", now, "warm") for e in engagers], "warm")]), LambdaContext()
    )
    engagements = [(e, "1", kind, now, text) for e in engagers for kind in kinds]
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
    assert stats["engagements"] == len(engagements) and stats["activities"] == 0
    assert stats["items_written"] == expected
    print(
        f"{case}: {stats['items_written']} items,"
        f" {stats['items_written'] / len(engagements):.2f} per engagement"
    )


def test_standalone_posts_are_kept_as_activities(stack: Stack) -> None:
    """A standalone post (not an engagement) is an activity item plus its poster's posts counter."""
    from functions.ingest.networks.base import AccountRef, Activity

    now = int(time.time())
    posts = [
        Activity(
            network="twitter",
            kind="post",
            activity_id=f"post:{i}",
            timestamp=now,
            actor=AccountRef(account_id="7"),
            post_id=str(i),
            terms=("#lhc",),
        )
        for i in range(3)
    ]
    stats = processor.store().ingest(posts, "posts-1", now)
    # first sight (account, profile, link) + 3 activities + 3 claims + 1 counters + 1 term
    assert stats.as_dict()["activities"] == 3 and stats.items_written == 3 + 3 + 3 + 1 + 1
    counters = stack.table.get_item(Key={"PK": keys.account_pk("twitter", "7"), "SK": keys.COUNTERS_SK})
    assert counters["Item"]["posts"] == 3


def test_demo_deliveries_average_at_most_one_write_per_engagement(stack: Stack) -> None:
    """The multi-network demo, sent twice (the second time every account is known): engagements cost
    one write each; the one standalone post (a YouTube upload) costs its activity, counter and terms."""
    from functions.shared.settings import get_settings
    from renown.demo_payloads import multi_network_demo

    totals = {"engagements": 0, "engagement_items": 0, "posts": 0, "post_items": 0}
    for round_ in range(2):
        sent_at = int(time.time()) - 120 + 60 * round_  # a minute apart: new events, not a resend
        for i, (network, body, _) in enumerate(multi_network_demo(get_settings(), sent_at)):
            stats = processor.process_delivery(
                QueuedDelivery(
                    network=network, delivery_id=f"demo-{round_}-{i}", received_at=0, body=body.decode()
                )
            )
            if round_ == 1:
                totals["engagements"] += stats["engagements"]
                totals["posts"] += stats["activities"]
                kind = "post_items" if stats["activities"] else "engagement_items"
                totals[kind] += stats["items_written"]
    print(f"demo, known accounts: {totals}")
    assert totals["engagement_items"] <= 2 * totals["engagements"]  # its claim and its edge, at most
    # claim, activity, posts counter, 6 terms (#physics, three keywords, two two-word names)
    assert totals["posts"] == 1 and totals["post_items"] == 9


def test_receiver_to_processor_many_deliveries_exactly_once(stack: Stack) -> None:
    now = int(time.time())
    bodies = [
        twitter_delivery([(str(100 + i), "1", "mention", now, f"n{i}")], {}, SECRETS["twitter"])
        for i in range(30)
    ]
    for body, headers in bodies + bodies[:10]:  # ten network retries
        receiver.handler(rest_event("twitter", body=body, headers=headers), LambdaContext())
    messages = stack.receive_all()
    assert len(messages) == 30
    processor.handler(sqs_event(messages[:15]), LambdaContext())
    processor.handler(sqs_event(messages), LambdaContext())  # a redelivered batch
    edges = stack.table.query(
        KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": keys.edges_pk("twitter", "1")}
    )["Items"]
    assert len(edges) == 30 and sum(int(e["c_mention"]) for e in edges) == 30  # each delivery once


def test_one_event_sent_to_two_subscribers_counts_once(stack: Stack) -> None:
    """X sends the same like to the liker's and the author's subscriptions (two bodies, two ids)."""
    now = int(time.time())
    like = [("2", "1", "like", now, "one like")]
    copies = [queued(like, f"copy-{user}") for user in ("1", "2")]
    for user, copy in zip(("1", "2"), copies, strict=True):
        body, _ = twitter_delivery(like, {}, SECRETS["twitter"], for_user_id=user)
        copy["body"] = QueuedDelivery(
            network="twitter", delivery_id=f"twitter:{user}", received_at=now, body=body.decode()
        ).model_dump_json()
    assert processor.handler(sqs_event(copies), LambdaContext()) == {"batchItemFailures": []}
    edge = stack.table.get_item(
        Key={"PK": keys.edges_pk("twitter", "1"), "SK": keys.engager_sk("twitter", "2")}
    )["Item"]
    assert edge["c_like"] == 1


def test_a_failed_delivery_redelivered_after_another_wrote_the_edge_counts_once(stack: Stack) -> None:
    """A fails after its first write, B writes the same edge, SQS redelivers A: each like once."""
    now = int(time.time())
    a = [("2", "1", "like", now, "a1"), ("3", "1", "like", now, "a2")]
    b = [("2", "1", "like", now, "b1")]
    store = processor.store()
    original = store.transact
    calls = {"n": 0}

    def fail_second(items: list) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected failure after the first write")
        original(items)

    body_a = twitter_delivery(a, {}, SECRETS["twitter"])[0].decode()
    body_b = twitter_delivery(b, {}, SECRETS["twitter"])[0].decode()
    delivery_a = QueuedDelivery(network="twitter", delivery_id="A", received_at=now, body=body_a)
    delivery_b = QueuedDelivery(network="twitter", delivery_id="B", received_at=now, body=body_b)
    from functions.ingest import store as store_module

    small = store_module.TRANSACTION_ITEMS
    store_module.TRANSACTION_ITEMS = 2  # one like per transaction: A's second write fails
    try:
        store.transact = fail_second  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            processor.process_delivery(delivery_a)
        store.transact = original  # type: ignore[method-assign]
        processor.process_delivery(delivery_b)
        processor.process_delivery(delivery_a)  # the redelivery
    finally:
        store_module.TRANSACTION_ITEMS = small
        store.transact = original  # type: ignore[method-assign]
    edges = stack.table.query(
        KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": keys.edges_pk("twitter", "1")}
    )["Items"]
    assert {e["engager_id"]: int(e["c_like"]) for e in edges} == {"2": 2, "3": 1}
