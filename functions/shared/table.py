"""Bulk reads and writes on the single table through the boto3 resource (plain Python values)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def write_items(table: Any, items: Iterable[dict[str, Any]]) -> int:
    """Batched writes (25 per request, unprocessed items retried by boto3's batch writer)."""
    count = 0
    with table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for item in items:
            batch.put_item(Item=item)
            count += 1
    return count


def batch_get(table: Any, key_list: list[dict[str, str]]) -> list[dict[str, Any]]:
    """``BatchGetItem`` of plain ``{"PK", "SK"}`` keys (100 per request, unprocessed keys retried).

    ``table.meta.client`` is the resource's client: it converts values both ways itself.
    """
    client = table.meta.client
    out: list[dict[str, Any]] = []
    unique = list({(k["PK"], k["SK"]): k for k in key_list}.values())
    for start in range(0, len(unique), 100):
        request: dict[str, Any] = {table.name: {"Keys": unique[start : start + 100]}}
        for _ in range(10):
            answer = client.batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(table.name, []):
                out.append(item)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
    return out
