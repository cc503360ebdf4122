"""The local stack's moto adapter for streams: a table keeps the stream records some mapping's filter
passes, in order, with the images they had; a pattern on the images is matched on the whole record;
a table without filters keeps every record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from renown.local.moto_process import filtered_streams
from renown.local.pollers import matches
from renown.local.template import LocalTemplate
from tests.conftest import create_table

EDGES = [{"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "EDGES#"}]}}}}]
ROOT = Path(__file__).resolve().parents[2]


def _records(client: Any, table: str) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return records


def _write(table: Any) -> None:
    table.put_item(Item={"PK": "EDGES#twitter#1", "SK": "twitter#2", "n": 1})
    table.put_item(Item={"PK": "ACCOUNT#twitter#1", "SK": "META", "n": 1})
    table.update_item(
        Key={"PK": "EDGES#twitter#1", "SK": "twitter#2"},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": 1},
    )
    table.put_item(Item={"PK": "CLAIM#twitter#a1", "SK": "META"})
    table.delete_item(Key={"PK": "EDGES#twitter#1", "SK": "twitter#2"})


def test_only_records_a_filter_passes_are_kept(moto: None) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, "all")
    create_table(client, "t")
    create_table(client, "deep")
    resource = boto3.resource("dynamodb", region_name="us-east-1")
    on_images = [{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"n": {"N": ["2"]}}}}]
    undo = filtered_streams({"t": EDGES, "deep": on_images, "all": None})
    try:
        for name in ("all", "t", "deep"):
            _write(resource.Table(name))
    finally:
        undo()
    everything = _records(client, "all")
    assert [r["eventName"] for r in everything] == ["INSERT", "INSERT", "MODIFY", "INSERT", "REMOVE"]
    kept = _records(client, "t")
    wanted = [r for r in everything if any(matches(p, r) for p in EDGES)]
    # SizeBytes: moto counts the creation time into it, whose text is shorter on a whole second
    strip = ("eventID", "ApproximateCreationDateTime", "SequenceNumber", "SizeBytes")

    def plain(records: list[dict[str, Any]]) -> list[Any]:
        return [
            {k: v for k, v in r.items() if k not in strip}
            | {"dynamodb": {k: v for k, v in r["dynamodb"].items() if k not in strip}}
            for r in records
        ]

    assert len(wanted) == 3 and plain(kept) == plain(wanted)
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in kept]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    deep = _records(client, "deep")
    assert [(r["eventName"], r["dynamodb"]["NewImage"]["n"]) for r in deep] == [("MODIFY", {"N": "2"})]


def test_the_template_filters_are_the_mappings_filters() -> None:
    filters = LocalTemplate.load(ROOT / "template.yaml").stream_filters()
    assert filters == {"renown-table": EDGES}
