"""Scheduled pull of the sources that have no webhooks (``functions.ingest.pull.handler``).

Event: ``{"source": "wikipedia" | "bluesky", "limit": 2000}``. The handler reads the source's resume
cursor (``CURSOR#<source> / META``), drains up to ``limit`` lines through a *fetcher*, writes the
activities through the same store as the processor, and saves the cursor of the last line written.
Fetchers are injected (``drain(..., fetcher=...)``); tests use a fake one over recorded lines and
never touch the network. The default Wikimedia fetcher reads the SSE stream with ``Last-Event-ID``;
Bluesky's Jetstream is a WebSocket, which needs a client library the functions do not ship: its
default fetcher raises ``PullError`` until one is added (the parser and cursor handling are done).
Lines are written in batches of ``BATCH`` with the batch's first cursor as the delivery id, so a
crash between writing and saving the cursor replays that batch without double counting the items it
reached (see ``store``).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from functions.ingest.networks import SOURCES
from functions.ingest.networks.base import Activity, PayloadError
from functions.ingest.networks.wikipedia import STREAM_URL
from functions.ingest.store import IngestTableWriter
from functions.shared import aws, keys
from functions.shared.observability import MetricUnit, logger, metrics
from functions.shared.settings import get_settings

Fetcher = Callable[[str | None, int], Iterable[str]]  # (cursor, limit) -> event lines
BATCH = 200


class PullError(Exception):
    """A source cannot be pulled (unknown source, or no client for its transport)."""


def wikimedia_fetcher(cursor: str | None, limit: int, timeout_s: float = 20.0) -> Iterator[str]:
    """Lines of the Wikimedia recentchange SSE stream, resuming after ``cursor`` (``Last-Event-ID``)."""
    request = urllib.request.Request(
        STREAM_URL, headers={"Accept": "text/event-stream", "User-Agent": "renown-ingest/0.1"}
    )
    if cursor:
        request.add_header("Last-Event-ID", cursor)
    deadline, count = time.monotonic() + timeout_s, 0
    with urllib.request.urlopen(request, timeout=timeout_s) as stream:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("data: "):
                yield line[6:]
                count += 1
            if count >= limit or time.monotonic() > deadline:
                return


def jetstream_fetcher(cursor: str | None, limit: int) -> Iterator[str]:
    raise PullError("Bluesky Jetstream needs a WebSocket client; inject a fetcher")


DEFAULT_FETCHERS: dict[str, Fetcher] = {"wikipedia": wikimedia_fetcher, "bluesky": jetstream_fetcher}


def load_cursor(table: Any, source: str) -> str | None:
    item = table.get_item(Key={"PK": keys.cursor_pk(source), "SK": keys.META_SK}).get("Item")
    return str(item["cursor"]) if item and item.get("cursor") else None


def save_cursor(table: Any, source: str, cursor: str, now: int) -> None:
    table.put_item(
        Item={"PK": keys.cursor_pk(source), "SK": keys.META_SK, "cursor": cursor, "updated_at": now}
    )


def drain(
    source: str, fetcher: Fetcher, store: IngestTableWriter, table: Any, limit: int, now: int
) -> dict[str, int]:
    """Pull up to ``limit`` lines of ``source`` from its stored cursor and store their activities.

    Examples
    --------
    >>> drain("wikipedia", lambda cursor, limit: [], store, table, 100, 0)  # doctest: +SKIP
    {'lines': 0, 'bad_lines': 0, 'activities': 0, 'engagements': 0}
    """
    parser = SOURCES.get(source)
    if parser is None:
        raise PullError(f"no pull source {source!r}")
    cursor = load_cursor(table, source)
    totals = {"lines": 0, "bad_lines": 0, "activities": 0, "engagements": 0}
    batch: list[Activity] = []
    batch_id: str | None = None
    last_cursor: str | None = None

    def flush() -> None:
        nonlocal batch, batch_id
        if last_cursor is None:
            return
        stats = store.ingest(batch, f"{source}:{batch_id}", now)
        totals["activities"] += stats.activities
        totals["engagements"] += stats.engagements
        save_cursor(table, source, last_cursor, now)
        batch, batch_id = [], None

    for line in fetcher(cursor, limit):
        if not line.strip():
            continue
        totals["lines"] += 1
        try:
            parsed = parser.parse_line(line)
        except PayloadError:
            totals["bad_lines"] += 1
            continue
        batch.extend(parsed.activities)
        last_cursor = str(parsed.extra.get("cursor") or last_cursor)
        batch_id = batch_id or last_cursor
        if len(batch) >= BATCH:
            flush()
    flush()
    return totals


def handler(event: dict[str, Any], context: Any, fetcher: Fetcher | None = None) -> dict[str, Any]:
    """Scheduled entry point (EventBridge schedule with ``{"source": ...}``)."""
    source = str((event or {}).get("source") or "wikipedia")
    limit = int((event or {}).get("limit") or 2000)
    settings = get_settings()
    store = IngestTableWriter(aws.table(), aws.client("dynamodb"), settings.activity_ttl_days)
    totals = drain(source, fetcher or DEFAULT_FETCHERS[source], store, aws.table(), limit, int(time.time()))
    logger.info("pulled", extra={"source": source, **totals})
    metrics.add_metric(name=f"Pulled_{source}", unit=MetricUnit.Count, value=totals["lines"])
    metrics.flush_metrics()
    return {"source": source, **totals, "cursor": json.dumps(load_cursor(aws.table(), source))}
