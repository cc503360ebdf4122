"""Backfill: the bulk import leaves exactly the items the webhook path leaves, once.

The same activities (parsed from signed X deliveries by the real adapter) go through the webhook
path's writer, delivery by delivery, and through one backfill; the tables must hold the same items
(up to the backfill's bookkeeping and the last digits of decayed sums). Then: a second run, a run
resumed after a failure, webhooks that came first, opt-out markers and a bad line change nothing
they must not.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import boto3
import pytest

from functions.ingest import backfill
from functions.ingest.backfill import Backfill, BackfillRequest, read_activities
from functions.ingest.networks import parse_body
from functions.ingest.networks.base import Activity
from functions.ingest.store import IngestTableWriter
from functions.shared import keys
from functions.shared.records import OptOutRecord
from renown.demo_payloads import twitter_delivery
from renown.local.template import REGION
from tests.conftest import TABLE, LambdaContext, create_table
from tests.ingest.conftest import SECRETS, Stack

NOW = 1_765_000_000
BOOKKEEPING = {"backfills", "backfill"}  # the job's marks on aggregates and claims


def deliveries(seed: int = 3, count: int = 20) -> list[list[Activity]]:
    """Activities of ``count`` X deliveries: engagements of 25 accounts with each other's posts,
    and posts with hashtags (several deliveries share edges and terms)."""
    rng = random.Random(seed)
    out: list[list[Activity]] = []
    for number in range(count):
        author = str(rng.randrange(1, 6))
        batch = [(author, author, "post", NOW - 86_400 + number * 60, f"update {number} #higgs #cern")]
        for _ in range(rng.randrange(1, 6)):
            engager = str(rng.randrange(1, 26))
            kind = rng.choice(("mention", "reply", "like", "share"))
            batch.append((engager, author, kind, NOW - 86_400 + number * 60 + 5, f"@{author} #physics"))
        body, _ = twitter_delivery(batch, {}, SECRETS["twitter"], author)
        out.append(parse_body("twitter", body.decode()).activities)
    return out


def items(table_name: str) -> dict[tuple[str, str], dict[str, Any]]:
    table = boto3.resource("dynamodb", region_name=REGION).Table(table_name)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        for item in page["Items"]:
            found[(item["PK"], item["SK"])] = {k: v for k, v in item.items() if k not in BOOKKEEPING}
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def assert_same(left: dict[Any, dict[str, Any]], right: dict[Any, dict[str, Any]]) -> None:
    assert left.keys() == right.keys(), sorted(left.keys() ^ right.keys())[:10]
    for key, item in left.items():
        other = right[key]
        assert item.keys() == other.keys(), (key, item.keys() ^ other.keys())
        for name, value in item.items():
            if name.startswith("d_"):  # decayed sums: rounded per delivery on one path, once on the other
                assert float(value) == pytest.approx(float(other[name]), rel=1e-12), (key, name)
            else:
                assert value == other[name], (key, name, value, other[name])


def by_webhooks(table_name: str, batches: list[list[Activity]]) -> None:
    ddb = boto3.resource("dynamodb", region_name=REGION)
    writer = IngestTableWriter(ddb.Table(table_name), boto3.client("dynamodb", region_name=REGION), 90)
    for number, batch in enumerate(batches):
        writer.ingest(batch, f"twitter:d{number}", NOW)


def by_backfill(table_name: str, activities: list[Activity], job: str = "job1") -> backfill.BackfillStats:
    client = boto3.client("dynamodb", region_name=REGION)
    return Backfill(client, table_name, ttl_days=90, job_id=job, threads=1).run(activities, NOW)


@pytest.fixture()
def tables(stack: Stack) -> tuple[str, str]:
    """The single table (the webhook path's) and a second one for the backfill."""
    create_table(boto3.client("dynamodb", region_name=REGION), "renown-backfill")
    return TABLE, "renown-backfill"


def test_backfill_writes_what_the_webhooks_write(tables: tuple[str, str]) -> None:
    hooks, bulk = tables
    batches = deliveries()
    by_webhooks(hooks, batches)
    stats = by_backfill(bulk, [a for batch in batches for a in batch])
    expected = items(hooks)
    assert any(k[0].startswith("EDGES#") for k in expected) and any(
        k[1].startswith("TERM#") for k in expected
    )
    assert_same(expected, items(bulk))
    assert stats.requests < stats.items_written / 10  # batched: many items a request
    assert stats.duplicates == 0 and stats.engagements > 0


def test_a_second_run_and_a_resumed_run_change_nothing(
    tables: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks, bulk = tables
    activities = [a for batch in deliveries() for a in batch]
    by_backfill(hooks, activities)
    once = items(hooks)
    again = by_backfill(hooks, activities)
    assert again.engagements == 0 and again.duplicates > 0
    assert_same(once, items(hooks))

    # a run that fails after its aggregates and before its claims, then runs again
    original = backfill.BulkTable.put
    calls = {"n": 0}

    def failing_claims(self: Any, rows: Any, done: Any = None) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the function timed out")
        return original(self, rows, done)

    monkeypatch.setattr(backfill.BulkTable, "put", failing_claims)
    with pytest.raises(RuntimeError):
        by_backfill(bulk, activities)
    monkeypatch.setattr(backfill.BulkTable, "put", original)
    resumed = by_backfill(bulk, activities)
    assert resumed.items_skipped > 0
    assert_same(once, items(bulk))


def test_webhooks_received_first_are_not_counted_again(tables: tuple[str, str]) -> None:
    hooks, bulk = tables
    batches = deliveries()
    by_webhooks(hooks, batches)
    by_webhooks(bulk, batches[::3])  # a third came by webhook before the backfill
    stats = by_backfill(bulk, [a for batch in batches for a in batch])
    assert stats.duplicates > 0
    assert_same(items(hooks), items(bulk))


def test_opted_out_accounts_are_left_out(tables: tuple[str, str]) -> None:
    hooks, _ = tables
    activities = [a for batch in deliveries() for a in batch]
    ddb = boto3.resource("dynamodb", region_name=REGION).Table(hooks)
    ddb.put_item(Item=OptOutRecord.of("twitter", "3", NOW).to_item())
    stats = by_backfill(hooks, activities)
    assert stats.dropped_optout > 0
    stored = json.dumps([list(k) + list(v.values()) for k, v in items(hooks).items()], default=str)
    assert keys.account_pk("twitter", "3") not in stored
    assert keys.edges_pk("twitter", "3") not in stored
    assert keys.engager_sk("twitter", "3") not in stored


def test_the_function_reads_an_object_and_records_the_job(stack: Stack) -> None:
    activities = [a for batch in deliveries(count=6) for a in batch]
    lines = [a.model_dump_json() for a in activities] + ['{"network": "twitter"}', "not json"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="renown-artifacts")
    s3.put_object(Bucket="renown-artifacts", Key="backfills/x.jsonl", Body="\n".join(lines).encode())
    event = {"bucket": "renown-artifacts", "key": "backfills/x.jsonl", "job_id": "x1"}
    result = backfill.handler(event, LambdaContext())
    assert result["invalid"] == 2 and result["engagements"] > 0 and result["job_id"] == "x1"
    job = stack.table.get_item(Key=backfill.job_key("x1"))["Item"]
    assert job["status"] == "succeeded" and job["stats"]["items_written"] == result["items_written"]
    with pytest.raises(ValueError):
        BackfillRequest.model_validate({"bucket": "b", "key": "k", "job_id": "no spaces"})


def test_read_activities_keeps_the_first_copy() -> None:
    stats = backfill.BackfillStats()
    act = deliveries(count=1)[0][0]
    got = read_activities([act.model_dump_json(), act.model_dump_json(), "[1]"], stats)
    assert got == [act] and stats.lines == 3 and stats.invalid == 1
    assert Decimal(1) == 1


def test_the_score_updater_leaves_a_backfill_to_the_scoring_pass(stack: Stack) -> None:
    """The stream records of a backfill's edges are skipped (its pass scores them); a webhook's change
    to an edge the backfill wrote is the updater's again."""
    from functions.ingest import score_updater
    from tests.ingest.test_pull_and_scores import stream_records

    by_backfill(TABLE, [a for batch in deliveries(count=6) for a in batch])
    records = stream_records(TABLE)
    assert records and all(score_updater.from_backfill(r) for r in records)
    before = items(TABLE)
    assert score_updater.handler({"Records": records}, LambdaContext()) == {"batchItemFailures": []}
    assert items(TABLE) == before  # nothing read into RANK items, nothing scored
    by_webhooks(TABLE, deliveries(seed=4, count=3))
    later = stream_records(TABLE)[len(records) :]
    assert later and not any(score_updater.from_backfill(r) for r in later)
    assert any("backfills" in r["dynamodb"].get("OldImage", {}) for r in later)  # edges it wrote
