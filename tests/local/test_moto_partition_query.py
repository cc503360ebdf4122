"""The local stack's moto adapter: base-table Queries read their partition only, with the same results,
order and paging as moto's own walk over the table; index queries are left alone."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from moto.dynamodb.models.table import Table

from renown.local.moto_process import partition_queries
from tests.conftest import create_table


@pytest.fixture()
def table(moto: None) -> Any:
    create_table(boto3.client("dynamodb", region_name="us-east-1"), "t")
    t = boto3.resource("dynamodb", region_name="us-east-1").Table("t")
    with t.batch_writer() as batch:
        for p in range(12):
            for s in range(30):
                batch.put_item(
                    Item={
                        "PK": f"EDGES#{p}",
                        "SK": f"{'FROM' if s % 3 else 'TERM'}#{s:03d}",
                        "n": s,
                        "GSI1PK": f"TOPIC#{s % 4}",
                        "GSI1SK": f"{p:03d}#{s:03d}",
                    }
                )
    return t


def _pages(table: Any, **query: Any) -> list[list[dict[str, Any]]]:
    pages = []
    while True:
        page = table.query(**query)
        pages.append(page["Items"])
        if "LastEvaluatedKey" not in page:
            return pages
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": Key("PK").eq("EDGES#3")},
    {"KeyConditionExpression": Key("PK").eq("EDGES#3"), "ScanIndexForward": False, "Limit": 7},
    {"KeyConditionExpression": Key("PK").eq("EDGES#5") & Key("SK").begins_with("FROM#"), "Limit": 4},
    {"KeyConditionExpression": Key("PK").eq("EDGES#5") & Key("SK").between("FROM#010", "TERM#020")},
    {"KeyConditionExpression": Key("PK").eq("EDGES#7"), "FilterExpression": Attr("n").gt(12), "Limit": 5},
    {"KeyConditionExpression": Key("PK").eq("EDGES#99")},
    {"IndexName": "GSI1", "KeyConditionExpression": Key("GSI1PK").eq("TOPIC#2"), "Limit": 9},
]


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_partition_queries_give_moto_own_results(table: Any, query: dict[str, Any]) -> None:
    expected = _pages(table, **query)
    undo = partition_queries()
    try:
        assert _pages(table, **query) == expected
    finally:
        undo()
    assert _pages(table, **query) == expected  # undone


def test_a_query_no_longer_walks_other_partitions(table: Any) -> None:
    walked: list[int] = []
    original = Table.all_items

    def counting(self: Any) -> Any:
        items = original(self)
        walked.append(len(items))
        return items

    Table.all_items = counting  # type: ignore[method-assign]
    undo = partition_queries()
    try:
        table.query(KeyConditionExpression=Key("PK").eq("EDGES#1"))
    finally:
        undo()
        Table.all_items = original  # type: ignore[method-assign]
    assert walked == []  # moto's walk over all 360 items is not taken
