"""Pull sources over recorded lines (fake fetchers, no network) and the score updater fed with the
table's real stream records (moto), in the shape Lambda delivers them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions.ingest import processor, pull, score_updater
from functions.ingest.identity import profile_id_for
from functions.shared import aws, keys
from renown.demo_payloads import twitter_delivery
from tests.conftest import LambdaContext
from tests.ingest.conftest import EVENTS, SAMPLE_TIME, SECRETS, Stack, sqs_event


def recorded(source: str) -> list[str]:
    name = {"wikipedia": "recentchange.jsonl", "bluesky": "jetstream.jsonl"}[source]
    return (EVENTS / source / name).read_text().splitlines()


class FakeFetcher:
    """Serves recorded lines after the given cursor (as the real stream resumes)."""

    def __init__(self, lines: list[str], cursor_of: Any) -> None:
        self.lines, self.cursor_of, self.calls = lines, cursor_of, []

    def __call__(self, cursor: str | None, limit: int) -> list[str]:
        self.calls.append(cursor)
        start = 0
        if cursor is not None:
            start = next(i + 1 for i, line in enumerate(self.lines) if self.cursor_of(line) == cursor)
        return self.lines[start : start + limit]


@pytest.fixture(autouse=True)
def at_sample_time_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorded lines are judged at the time they were recorded (``timecheck``)."""
    monkeypatch.setattr(pull, "clock", lambda: SAMPLE_TIME + 5.0)


def test_wikipedia_pull_stores_edits_and_resumes(stack: Stack) -> None:
    source = pull.SOURCES["wikipedia"]
    fetcher = FakeFetcher(
        ["", "not json", *recorded("wikipedia")],
        lambda line: source.parse_line(line).extra["cursor"] if line.startswith("{") else None,
    )
    first = pull.handler({"source": "wikipedia", "limit": 3}, LambdaContext(), fetcher=fetcher)
    assert first["bad_lines"] == 1 and first["engagements"] == 1
    second = pull.handler({"source": "wikipedia", "limit": 10}, LambdaContext(), fetcher=fetcher)
    assert fetcher.calls[1] is not None and second["lines"] == 2 and second["engagements"] == 1
    edge = stack.table.get_item(
        Key={
            "PK": keys.edges_pk("wikipedia", "enwiki:Higgs boson"),
            "SK": keys.engager_sk("wikipedia", "enwiki:Physicist42"),
        }
    )
    assert edge["Item"]["c_edit"] == 1
    assert (
        pull.load_cursor(stack.table, "wikipedia")
        == source.parse_line(recorded("wikipedia")[-1]).extra["cursor"]
    )


def test_bluesky_pull_maps_collections(stack: Stack) -> None:
    source = pull.SOURCES["bluesky"]
    fetcher = FakeFetcher(recorded("bluesky"), lambda line: source.parse_line(line).extra["cursor"])
    totals = pull.handler({"source": "bluesky"}, LambdaContext(), fetcher=fetcher)
    assert (
        totals["lines"] == 6 and totals["engagements"] == 4
    )  # the reply also @-mentions its parent: one engagement
    fan = stack.table.get_item(Key={"PK": keys.account_pk("bluesky", "did:plc:fan400"), "SK": "META"})["Item"]
    assert fan["created"] == 1683019800  # the profile record's createdAt, 2023-05-02T09:30:00Z
    edges = stack.table.scan(
        FilterExpression="begins_with(PK, :p)", ExpressionAttributeValues={":p": "EDGES#bluesky#"}
    )["Items"]
    kinds = sorted(k for e in edges for k in e if k.startswith("c_"))
    assert kinds == ["c_follow", "c_like", "c_reply", "c_share"]
    assert pull.load_cursor(stack.table, "bluesky") == str(
        __import__("json").loads(recorded("bluesky")[-1])["time_us"]
    )


def stream_records(table_name: str) -> list[dict[str, Any]]:
    """Read the table's stream like Lambda's poller and keep EDGES# records (the template's filter)."""
    arn = aws.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            answer = streams.get_records(ShardIterator=iterator, Limit=1000)
            records.extend(answer["Records"])
            iterator = answer.get("NextShardIterator") if answer["Records"] else None
    for record in records:
        record["eventSourceARN"] = arn
    return [r for r in records if r["dynamodb"]["Keys"]["PK"]["S"].startswith("EDGES#")]


def test_score_updater_scores_authors_from_stream_records(stack: Stack, tmp_path: Path) -> None:
    now = int(time.time())
    engagements = [(str(10 + i), "1", "mention", now, "#higgs") for i in range(12)] + [
        ("1", "2", "like", now, "x")
    ]
    body, _ = twitter_delivery(
        engagements, {"1": {"screen_name": "peterhiggs", "name": "Peter Higgs"}}, SECRETS["twitter"]
    )
    from functions.ingest.delivery import QueuedDelivery

    delivery = QueuedDelivery(network="twitter", delivery_id="s1", received_at=now, body=body.decode())
    assert processor.handler(sqs_event([{"body": delivery.model_dump_json()}]), LambdaContext()) == {
        "batchItemFailures": []
    }
    records = stream_records("renown")
    assert len({(r["dynamodb"]["Keys"]["PK"]["S"], r["dynamodb"]["Keys"]["SK"]["S"]) for r in records}) == 13
    # the updater calibrates with the active version's table: a full pass over what is there first
    from functions.rescore.artifacts import DirArtifactStore
    from functions.rescore.in_process import run_in_process

    stack.table.put_item(Item={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK, "version": "v1"})
    body2, _ = twitter_delivery(
        [("20", "2", "like", now, "y"), ("21", "1", "like", now, "z")], {}, SECRETS["twitter"]
    )
    seeded = QueuedDelivery(network="twitter", delivery_id="s0", received_at=now, body=body2.decode())
    answer = processor.handler(sqs_event([{"body": seeded.model_dump_json()}]), LambdaContext())
    assert answer["batchItemFailures"] == []
    run_in_process({"version": "v1", "now": now}, DirArtifactStore(tmp_path))
    assert score_updater.handler({"Records": records}, LambdaContext()) == {"batchItemFailures": []}
    higgs = stack.table.get_item(
        Key={"PK": keys.profile_pk(profile_id_for("twitter", "1")), "SK": keys.SCORE_SK}
    )["Item"]
    other = stack.table.get_item(
        Key={"PK": keys.profile_pk(profile_id_for("twitter", "2")), "SK": keys.SCORE_SK}
    )["Item"]
    assert 1 < float(other["score"]) < float(higgs["score"]) <= 100 and higgs["algorithm_version"] == "v1"
    assert higgs["name"] == "Peter Higgs"
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    history = stack.table.get_item(
        Key={"PK": keys.profile_pk(profile_id_for("twitter", "1")), "SK": keys.history_sk(day)}
    )
    assert float(history["Item"]["score"]) == float(higgs["score"])
    versioned = stack.table.get_item(
        Key={"PK": keys.profile_pk(profile_id_for("twitter", "1")), "SK": keys.score_sk("v1")}
    )
    assert versioned["Item"]["score"] == higgs["score"]
    # replaying the same records (Lambda retries) gives the same scores
    assert score_updater.handler({"Records": records}, LambdaContext()) == {"batchItemFailures": []}
    again = stack.table.get_item(
        Key={"PK": keys.profile_pk(profile_id_for("twitter", "1")), "SK": keys.SCORE_SK}
    )["Item"]
    assert again["score"] == higgs["score"]


def test_pull_moves_past_a_poison_line_and_keeps_it(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A line whose write fails (not transiently) is kept in a dead-letter record; the cursor moves on,
    the other lines are stored, and the next run does not read it again."""
    source = pull.SOURCES["wikipedia"]
    lines = recorded("wikipedia")
    index = next(i for i, line in enumerate(lines) if source.parse_line(line).activities)
    poison = source.parse_line(lines[index]).activities[0].activity_id
    original = processor.IngestTableWriter.ingest

    def ingest(self: Any, activities: list, delivery_id: str, now: int, accounts: Any = ()) -> Any:
        if any(a.activity_id == poison for a in activities):
            raise ValueError("this item cannot be written")
        return original(self, activities, delivery_id, now, accounts)

    monkeypatch.setattr(processor.IngestTableWriter, "ingest", ingest)
    fetcher = FakeFetcher(lines, lambda line: source.parse_line(line).extra["cursor"])
    totals = pull.handler({"source": "wikipedia"}, LambdaContext(), fetcher=fetcher)
    assert totals["dead_letters"] == 1
    assert pull.load_cursor(stack.table, "wikipedia") == source.parse_line(lines[-1]).extra["cursor"]
    dead = stack.table.query(
        KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": "DEADLETTER#wikipedia"}
    )["Items"]
    assert [d["line"] for d in dead] == [lines[index]] and "cannot be written" in dead[0]["error"]
    again = pull.handler({"source": "wikipedia"}, LambdaContext(), fetcher=fetcher)
    assert again["lines"] == 0


def test_pull_drops_an_event_from_the_future_and_moves_on(stack: Stack) -> None:
    """A line dated in 2063 (or 1970) is dropped with its reason; the rest of the batch is stored."""
    import json as _json

    source = pull.SOURCES["wikipedia"]
    lines = recorded("wikipedia")
    bad = []
    for i, ts in enumerate((2_935_000_000, 0)):
        event = _json.loads(lines[0])
        event["meta"]["id"] = f"poison-{i}"
        event["meta"]["offset"] = 10_000 + i
        event["timestamp"] = ts
        bad.append(_json.dumps(event))
    all_lines = [*bad, *lines]
    fetcher = FakeFetcher(all_lines, lambda line: source.parse_line(line).extra["cursor"])
    totals = pull.handler({"source": "wikipedia"}, LambdaContext(), fetcher=fetcher)
    assert totals["dropped"] == 2 and totals["dead_letters"] == 0
    assert pull.load_cursor(stack.table, "wikipedia") == source.parse_line(lines[-1]).extra["cursor"]
    edges = stack.table.scan(
        FilterExpression="begins_with(PK, :p)", ExpressionAttributeValues={":p": "EDGES#wikipedia#"}
    )["Items"]
    from functions.ingest.aggregate import decay_weight

    newest = decay_weight(SAMPLE_TIME + 300)
    assert all(float(e.get("d_edit", 0)) <= int(e.get("c_edit", 0)) * newest for e in edges)  # none from 2063
    assert sum(int(e.get("c_edit", 0)) for e in edges) == totals["engagements"]


def _deliver(engagements: list[tuple[str, str, str, int, str]], delivery_id: str, now: int) -> None:
    from functions.ingest.delivery import QueuedDelivery

    body, _ = twitter_delivery(
        engagements, {"1": {"screen_name": "peterhiggs", "name": "Peter Higgs"}}, SECRETS["twitter"]
    )
    delivery = QueuedDelivery(network="twitter", delivery_id=delivery_id, received_at=now, body=body.decode())
    answer = processor.handler(sqs_event([{"body": delivery.model_dump_json()}]), LambdaContext())
    assert answer["batchItemFailures"] == []


def _scored_population(stack: Stack, tmp_path: Path, now: int) -> None:
    """Account 1 receives 12 mentions and likes account 2; a full pass, then the updater over it all."""
    from functions.rescore.artifacts import DirArtifactStore
    from functions.rescore.in_process import run_in_process

    _deliver(
        [(str(10 + i), "1", "mention", now, "#higgs") for i in range(12)] + [("1", "2", "like", now, "x")],
        "o1",
        now,
    )
    stack.table.put_item(Item={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK, "version": "v1"})
    run_in_process({"version": "v1", "now": now}, DirArtifactStore(tmp_path))
    assert score_updater.handler({"Records": stream_records("renown")}, LambdaContext()) == {
        "batchItemFailures": []
    }


def test_score_updater_never_writes_for_an_opted_out_person(stack: Stack, tmp_path: Path) -> None:
    """Opt out, then the erasure's REMOVE records and a later delivery reach the updater: no score,
    history or rank state of the person comes back (issue 13, item 1)."""
    from functions.api.store import DynamoApiTable

    now = int(time.time())
    _scored_population(stack, tmp_path, now)
    higgs = profile_id_for("twitter", "1")
    score_key = {"PK": keys.profile_pk(higgs), "SK": keys.SCORE_SK}
    assert "Item" in stack.table.get_item(Key=score_key)
    DynamoApiTable().erase_profile(higgs, now)
    _deliver([("30", "1", "like", now, "z"), ("1", "31", "reply", now, "z")], "o2", now)  # dropped at ingest
    # every EDGES# record of the stream so far (the inserts, the erasure's removes) reaches the updater
    assert score_updater.handler({"Records": stream_records("renown")}, LambdaContext()) == {
        "batchItemFailures": []
    }
    left = stack.table.query(
        KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": keys.profile_pk(higgs)}
    )
    assert left["Items"] == []
    account = stack.table.query(
        KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": keys.account_pk("twitter", "1")}
    )
    assert account["Items"] == []
    received = stack.table.query(
        KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": keys.edges_pk("twitter", "1")}
    )
    assert received["Items"] == []


def _names(item: dict[str, Any], network: str, account: str, profile: str) -> list[str]:
    """What in ``item`` names the account or the profile (keys, ids, pair-count attributes, text)."""
    found = []
    for name, value in item.items():
        if name in {f"b_{account}", f"n_{account}"}:
            found.append(name)
        if not isinstance(value, str):
            continue
        if profile in value:
            found.append(f"{name}={value}")
        parts = value.split("#")
        if any(parts[i : i + 2] == [network, account] for i in range(len(parts) - 1)):
            found.append(f"{name}={value}")
        ids = {"account_id", "author_id", "engager_id"}
        if name in ids and value == account and item.get("network") == network:
            found.append(f"{name}={value}")
    return found


def test_opt_out_erases_everything_that_names_the_person(stack: Stack, tmp_path: Path) -> None:
    """Opt out, then deliveries to and from the person, the updater and a scoring pass: a scan of the
    table finds no item naming their account or profile except the marker (issue 13, item 1)."""
    from functions.api.store import DynamoApiTable
    from functions.rescore.artifacts import DirArtifactStore
    from functions.rescore.in_process import run_in_process

    now = int(time.time())
    _scored_population(stack, tmp_path, now)
    higgs = profile_id_for("twitter", "1")

    def scan() -> list[dict[str, Any]]:
        items, kwargs = [], {}
        while True:
            page = stack.table.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    before = [it for it in scan() if _names(it, "twitter", "1", higgs)]
    assert any(it["SK"] == keys.engager_sk("twitter", "1") for it in before)  # the like 1 gave to 2
    assert any(it["SK"].startswith("RANK#") and "b_1" in it for it in before)  # engagers' pair counts
    DynamoApiTable().erase_profile(higgs, now)
    deliveries = [
        ("30", "1", "like", now, "z"),
        ("1", "31", "reply", now, "z"),
        ("10", "2", "reply", now, "w"),
    ]
    _deliver(deliveries, "o3", now)  # the first two are dropped at ingest
    assert score_updater.handler({"Records": stream_records("renown")}, LambdaContext()) == {
        "batchItemFailures": []
    }
    run_in_process({"version": "v1", "now": now + 60}, DirArtifactStore(tmp_path))
    left = {(it["PK"], it["SK"]): _names(it, "twitter", "1", higgs) for it in scan()}
    left = {k: v for k, v in left.items() if v}
    assert left == {}
    assert stack.table.get_item(Key={"PK": keys.optout_pk("twitter", "1"), "SK": keys.META_SK})["Item"]
    # the marker itself holds no id
    marker = stack.table.get_item(Key={"PK": keys.optout_pk("twitter", "1"), "SK": keys.META_SK})["Item"]
    assert set(marker) == {"PK", "SK", "marker", "opted_out_at", "profile_key", "GSI2PK", "GSI2SK"}
    assert not _names(marker, "twitter", "1", higgs) and "twitter" not in str(marker)
