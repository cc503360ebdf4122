"""Twitter end to end: receiver -> SQS -> processor -> table, on moto in-process."""

from __future__ import annotations

import json
import time

from boto3.dynamodb.conditions import Key

from functions.ingest import processor, receiver
from functions.ingest.identity import profile_id_for
from functions.shared import keys
from functions.shared.records import EdgeRecord
from renown.demo_payloads import twitter_delivery
from tests.conftest import LambdaContext
from tests.ingest.conftest import SECRETS, Stack, rest_event, sqs_event


def _dump(items: list[dict]) -> list[str]:
    return sorted(json.dumps(item, default=str, sort_keys=True) for item in items)


def _post(body: bytes, headers: dict[str, str]) -> dict:
    return receiver.handler(rest_event("twitter", body=body, headers=headers), LambdaContext())


def test_twitter_delivery_lands_in_the_table(stack: Stack) -> None:
    now = int(time.time())
    users = {"1": {"screen_name": "peterhiggs", "name": "Peter Higgs", "followers_count": 1000}}
    engagements = [
        ("2", "1", "mention", now, "the #higgs boson"),
        ("3", "1", "reply", now, "congratulations"),
        ("2", "1", "like", now, "the boson paper"),
        ("4", "1", "share", now, "#higgs found"),
        ("5", "1", "quote", now, "wow"),
        ("6", "1", "follow", now, ""),
    ]
    body, headers = twitter_delivery(engagements, users, SECRETS["twitter"])
    answer = _post(body, headers)
    assert answer["statusCode"] == 200, answer["body"]
    messages = stack.receive_all()
    assert len(messages) == 1
    result = processor.handler(sqs_event(messages), LambdaContext())
    assert result == {"batchItemFailures": []}

    table = stack.table
    edges = table.query(KeyConditionExpression=Key("PK").eq(keys.edges_pk("twitter", "1")))["Items"]
    by_engager = {e["engager_id"]: EdgeRecord.from_item(e) for e in edges}
    assert by_engager["2"].counts == {"mention": 1, "like": 1}
    assert by_engager["3"].counts == {"reply": 1}
    assert by_engager["4"].counts == {"share": 1}
    assert by_engager["5"].counts == {"quote": 1}
    assert by_engager["6"].counts == {"follow": 1}
    # given/received are the sums of the edges; the follower count went into the new account's META
    assert "Item" not in table.get_item(Key={"PK": keys.account_pk("twitter", "1"), "SK": keys.COUNTERS_SK})
    account = table.get_item(Key={"PK": keys.account_pk("twitter", "1"), "SK": keys.META_SK})["Item"]
    assert account["profile_id"] == profile_id_for("twitter", "1") and account["handle"] == "peterhiggs"
    assert account["followers"] == 1000
    profile = table.get_item(Key={"PK": keys.profile_pk(account["profile_id"]), "SK": keys.META_SK})["Item"]
    assert profile["name"] == "Peter Higgs"
    # topic evidence rides on the edges (t_<term>), no TERM# item per engagement
    assert sum(int(e.get("t_#higgs", 0)) for e in edges) == 2
    assert "Item" not in table.get_item(Key={"PK": keys.account_pk("twitter", "1"), "SK": "TERM##higgs"})
    # the mention tweet is an engagement: recorded by its edge, no activity item
    acts = table.query(
        KeyConditionExpression=Key("PK").eq(keys.account_pk("twitter", "2")) & Key("SK").begins_with("ACT#")
    )
    assert acts["Items"] == []


def test_same_delivery_twice_changes_nothing(stack: Stack) -> None:
    now = int(time.time())
    body, headers = twitter_delivery([("2", "1", "mention", now, "hi")], {}, SECRETS["twitter"])
    assert _post(body, headers)["statusCode"] == 200
    message = stack.receive_all()
    processor.handler(sqs_event(message), LambdaContext())
    before = stack.table.scan()["Items"]
    # the network retries: the queue gets the same delivery again (another container, or after the window)
    assert processor.handler(sqs_event(message), LambdaContext()) == {"batchItemFailures": []}
    after = stack.table.scan()["Items"]
    assert _dump(before) == _dump(after)


def test_edge_aggregates_after_n_deliveries(stack: Stack) -> None:
    now = int(time.time())
    n = 7
    for i in range(n):
        body, headers = twitter_delivery(
            [("2", "1", "mention", now, f"hello {i}"), ("2", "1", "like", now, f"x{i}")],
            {},
            SECRETS["twitter"],
        )
        assert _post(body, headers)["statusCode"] == 200
    assert processor.handler(sqs_event(stack.receive_all()), LambdaContext()) == {"batchItemFailures": []}
    item = stack.table.get_item(
        Key={"PK": keys.edges_pk("twitter", "1"), "SK": keys.engager_sk("twitter", "2")}
    )["Item"]
    edge = EdgeRecord.from_item(item)
    assert edge.counts == {"mention": n, "like": n}
    assert edge.first_ts == now and edge.last_ts == now
    # engagements (and the mention tweets) are counted on the edge, not on the engager's counters
    assert "Item" not in stack.table.get_item(
        Key={"PK": keys.account_pk("twitter", "2"), "SK": keys.COUNTERS_SK}
    )
