"""Batched, retried, parallel writes of the shadow and refresh steps.

``BatchWriteItem`` takes 25 items; items it leaves unprocessed (throttling) are sent again with
exponential backoff; a batch that still has leftovers after ``attempts`` rounds raises, so the task
fails and the state machine retries it (writes are idempotent puts). Several threads share one client
(clients are thread-safe), because at scale a partition's write is bound by request latency, not CPU.
Items are serialised here, once, for a low-level client (``aws.bulk_client``: botocore's walk over
every attribute of every item, to validate and to convert it, cost more than the request itself).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from functions.shared.attribute_values import attribute_values

BATCH = 25


class UnprocessedItemsError(RuntimeError):
    """DynamoDB kept refusing some items (throttling) after every retry."""


def _batches(items: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for item in items:
        key = (item["PK"], item["SK"])
        if key in seen:  # one request may not hold the same key twice: the last one wins
            batch[seen[key]] = item
            continue
        seen[key] = len(batch)
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch, seen = [], {}
    if batch:
        yield batch


def _write_batch(client: Any, table_name: str, batch: list[dict[str, Any]], attempts: int) -> None:
    request: dict[str, Any] = {
        table_name: [{"PutRequest": {"Item": attribute_values(item)}} for item in batch]
    }
    for attempt in range(attempts):
        answer = client.batch_write_item(RequestItems=request)
        request = answer.get("UnprocessedItems") or {}
        if not request:
            return
        time.sleep(min(5.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
    raise UnprocessedItemsError(
        f"{sum(len(v) for v in request.values())} items unprocessed after {attempts} rounds"
    )


def write_parallel(
    client: Any, table_name: str, items: Iterable[dict[str, Any]], threads: int = 4, attempts: int = 10
) -> int:
    """Put every item (plain Python values, as ``Table.put_item`` takes them) with the low-level
    ``client``; returns the count."""
    batches = list(_batches(items))
    if threads <= 1 or len(batches) <= 1:
        for batch in batches:
            _write_batch(client, table_name, batch, attempts)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for _ in pool.map(lambda b: _write_batch(client, table_name, b, attempts), batches):
                pass
    return sum(len(b) for b in batches)
