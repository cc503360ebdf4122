"""The local stack's moto adapters for bulk reads and writes: a paged base-table Scan resumes at its
start key with moto's own results, order, paging, segments and filters; an item's size is checked
once with moto's own limit and error."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError
from moto.dynamodb.models.table import Table

from renown.local.moto_process import linear_item_sizes, linear_scans
from tests.conftest import create_table


@pytest.fixture()
def table(moto: None) -> Any:
    create_table(boto3.client("dynamodb", region_name="us-east-1"), "t")
    t = boto3.resource("dynamodb", region_name="us-east-1").Table("t")
    with t.batch_writer() as batch:
        for p in range(16):
            for s in range(p % 4 * 3):
                edge = {"PK": f"EDGES#{p}", "SK": f"FROM#{s:03d}", "n": s, "pad": "x" * (p * 10)}
                batch.put_item(Item=edge)
            account = {"PK": f"ACCOUNT#{p}", "SK": "META", "n": p, "GSI1PK": "A", "GSI1SK": f"{p:03d}"}
            batch.put_item(Item=account)
    return t


def _pages(table: Any, **scan: Any) -> list[list[dict[str, Any]]]:
    pages = []
    while True:
        page = table.scan(**scan)
        pages.append(page["Items"] + [{"count": page["Count"], "scanned": page["ScannedCount"]}])
        if "LastEvaluatedKey" not in page:
            return pages
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


SCANS: list[dict[str, Any]] = [
    {},
    {"Limit": 17},
    {"Limit": 11, "Segment": 1, "TotalSegments": 3},
    {"Segment": 3, "TotalSegments": 4, "Limit": 4},
    {"FilterExpression": Attr("PK").begins_with("ACCOUNT#") | Attr("n").gt(5), "Limit": 19},
    {"ScanFilter": {"n": {"AttributeValueList": [3], "ComparisonOperator": "GT"}}, "Limit": 23},
    {"ProjectionExpression": "PK, n", "Limit": 16},
    {"IndexName": "GSI1", "Limit": 5},
]


@pytest.mark.parametrize("scan", SCANS, ids=range(len(SCANS)))
def test_linear_scans_give_moto_own_pages(table: Any, scan: dict[str, Any]) -> None:
    expected = _pages(table, **scan)
    undo = linear_scans()
    try:
        assert _pages(table, **scan) == expected
    finally:
        undo()
    assert _pages(table, **scan) == expected  # undone


def test_pages_by_size_and_a_partition_added_between_pages(table: Any) -> None:
    """1 MB pages (moto's size limit) split inside a partition; a partition added mid-scan is seen
    when it sorts after the start key, as on moto's own walk."""
    with table.batch_writer() as batch:
        for s in range(26):
            batch.put_item(Item={"PK": "EDGES#big", "SK": f"FROM#{s:03d}", "pad": "y" * 50_000})
    undo = linear_scans()
    try:
        first = table.scan()
        assert "LastEvaluatedKey" in first
        table.put_item(Item={"PK": "ZZZ#late", "SK": "META"})
        rest = _pages(table, ExclusiveStartKey=first["LastEvaluatedKey"])
    finally:
        undo()
    keys = [(i["PK"], i["SK"]) for i in first["Items"]] + [
        (i["PK"], i["SK"]) for page in rest for i in page if "PK" in i
    ]
    everything = [(i["PK"], i["SK"]) for page in _pages(table) for i in page if "PK" in i]
    assert keys == everything and ("ZZZ#late", "META") in keys


def test_a_page_no_longer_walks_the_table(table: Any) -> None:
    walked: list[int] = []
    original = Table.all_items

    def counting(self: Any) -> Any:
        items = original(self)
        walked.append(len(items))
        return items

    Table.all_items = counting  # type: ignore[method-assign]
    undo = linear_scans()
    try:
        _pages(table, Limit=25)
    finally:
        undo()
        Table.all_items = original  # type: ignore[method-assign]
    assert walked == []


def test_an_item_over_the_limit_is_refused_as_by_moto(table: Any) -> None:
    big = {"PK": "P", "SK": "S", **{f"a{i}": "z" * 50_000 for i in range(9)}}
    with pytest.raises(ClientError) as before:
        table.put_item(Item=big)
    undo = linear_item_sizes()
    try:
        with pytest.raises(ClientError) as after:
            table.put_item(Item=big)
        table.put_item(Item={**big, "a8": "z"})  # under the limit
        assert table.get_item(Key={"PK": "P", "SK": "S"})["Item"]["a7"] == "z" * 50_000
    finally:
        undo()
    assert after.value.response["Error"] == before.value.response["Error"]


@pytest.mark.parametrize("added", [3, 200])
def test_partitions_added_after_the_orders_are_built_scan_as_on_moto(table: Any, added: int) -> None:
    """A bulk import after a first scan (the demo's first pass runs on an empty table): the segment
    orders built then take the new partitions (merged when many, inserted when few) and every segment
    still pages as moto's own walk does."""
    segments = [{"Segment": s, "TotalSegments": 4, "Limit": 7} for s in range(4)] + [{"Limit": 13}]
    undo = linear_scans()
    try:
        for scan in segments:
            table.scan(**scan)  # the orders, built on the table as it was
        with table.batch_writer() as batch:
            for p in range(added):
                batch.put_item(Item={"PK": f"EDGES#new{p:04d}", "SK": "FROM#000", "n": p})
        got = [_pages(table, **scan) for scan in segments]
    finally:
        undo()
    assert got == [_pages(table, **scan) for scan in segments]
    assert (
        sum(
            1
            for pages in got[:4]
            for page in pages
            for i in page
            if str(i.get("PK", "")).startswith("EDGES#new")
        )
        == added
    )
