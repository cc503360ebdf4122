"""The local stack's moto adapter for DynamoDB's attribute values: requests parsed and answers written
by the members a value holds give what moto's walk over the model gives, for every kind of value, on
the table and on its stream."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import Binary
from moto.core import parse

from renown.local.moto_process import direct_attribute_values
from tests.conftest import create_table

ITEM: dict[str, Any] = {
    "PK": "EDGES#twitter#1",
    "SK": "twitter#2",
    "s": "text é",
    "empty": "",
    "n": Decimal("12.50"),
    "b": Binary(b"\x00\xffbytes"),
    "ss": {"a", "b"},
    "ns": {Decimal(1), Decimal("2.5")},
    "bs": {Binary(b"x"), Binary(b"\x01")},
    "m": {"nested": {"deeper": [Decimal(1), "two", None, True]}, "flag": False, "blob": Binary(b"m")},
    "l": [{"k": "v"}, [Decimal(3)], Binary(b"l")],
    "null": None,
    "yes": True,
}


def _everything(client: Any, streams: Any) -> list[Any]:
    """What the client reads back of the item: GetItem, Scan, Query, BatchGetItem, the stream."""
    key = {"PK": {"S": ITEM["PK"]}, "SK": {"S": ITEM["SK"]}}
    arn = client.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    for record in records:
        record.pop("eventID")
        record["dynamodb"].pop("ApproximateCreationDateTime")
    return [
        client.get_item(TableName="t", Key=key)["Item"],
        client.scan(TableName="t")["Items"],
        client.query(
            TableName="t", KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": key["PK"]}
        )["Items"],
        client.batch_get_item(RequestItems={"t": {"Keys": [key]}})["Responses"]["t"],
        records,
    ]


def test_attribute_values_as_moto_parses_and_writes_them(moto: None) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    create_table(client, "t")
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("t")
    table.put_item(Item=ITEM)
    table.update_item(
        Key={"PK": ITEM["PK"], "SK": ITEM["SK"]},
        UpdateExpression="ADD n :one, ss :c SET m.flag = :t",
        ExpressionAttributeValues={":one": Decimal(1), ":c": {"c"}, ":t": True},
    )
    expected = _everything(client, streams)
    undo = direct_attribute_values()
    try:
        assert _everything(client, streams) == expected
        table.put_item(Item=ITEM)  # parsed by the adapter
        table.update_item(
            Key={"PK": ITEM["PK"], "SK": ITEM["SK"]},
            UpdateExpression="ADD n :one, ss :c SET m.flag = :t",
            ExpressionAttributeValues={":one": Decimal(1), ":c": {"c"}, ":t": True},
        )
        written = _everything(client, streams)
    finally:
        undo()
    assert _everything(client, streams) == written  # read back by moto's own walk
    assert written[:4] == expected[:4]
    assert written[0]["b"] == {"B": b"\x00\xffbytes"} and written[0]["n"] == {"N": "13.50"}
    assert [r["dynamodb"].get("NewImage") for r in written[4][:2]] == [
        r["dynamodb"].get("NewImage") for r in expected[4][:2]
    ]


@pytest.mark.parametrize("bad", [{"S": None}, {"X": "unknown member"}])
def test_members_moto_drops_are_dropped(moto: None, bad: dict[str, Any]) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, "t")
    shape = client.meta.service_model.shape_for("AttributeValue")
    parser = parse.JSONParser(client.meta.service_model.operation_model("PutItem"))
    expected = parser._parse_structure(shape, bad)
    undo = direct_attribute_values()
    try:
        assert parser._parse_structure(shape, bad) == expected
    finally:
        undo()
