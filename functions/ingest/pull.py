"""Scheduled pull of the sources that have no webhooks (``functions.ingest.pull.handler``).

Event: ``{"source": "wikipedia" | "bluesky", "limit": 2000}``. The handler reads the source's resume
cursor (``CURSOR#<source> / META``), drains up to ``limit`` lines through a *fetcher*, writes the
activities through the same store as the processor, and saves the cursor of the last line written.
Fetchers are injected (``drain(..., fetcher=...)``); tests use a fake one over recorded lines and
never touch the network. The default Wikimedia fetcher reads the SSE stream with ``Last-Event-ID``;
Bluesky's reads the Jetstream WebSocket with ``cursor=<time_us>`` (``functions.ingest.jetstream``).
Lines are written in batches of ``BATCH``; a crash between writing and saving the cursor replays
that batch without double counting (every activity is claimed once, see ``claims``).

A poison line never stalls the source: a line that does not parse, or whose activities cannot be
written for a reason other than a transient AWS error, is kept in a dead-letter record
(``DEADLETTER#<source>``, one per distinct line, TTL ``DEAD_LETTER_TTL_S``) and the cursor moves past
it; a transient error (throttling, a conflict, a connection failure) fails the run with the cursor
where it was, so the next run retries. Events with out-of-range times are dropped by the store.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.ingest import ownership
from functions.ingest.jetstream import jetstream_fetcher
from functions.ingest.networks import SOURCES
from functions.ingest.networks.base import AccountRef, Activity, PayloadError
from functions.ingest.networks.wikipedia import STREAM_URL
from functions.ingest.store import IngestTableWriter
from functions.shared import aws, keys
from functions.shared.observability import MetricUnit, logger, metrics
from functions.shared.settings import get_settings

Fetcher = Callable[[str | None, int], Iterable[str]]  # (cursor, limit) -> event lines
clock: Callable[[], float] = time.time  # tests replace it to replay recorded lines
BATCH = 200
DEAD_LETTER_TTL_S = 14 * 86_400
DEAD_LETTER_PK_PREFIX = "DEADLETTER#"
TRANSIENT = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
TRANSIENT_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"})


def transient(exc: BaseException) -> bool:
    """True for errors worth retrying later with the cursor unmoved (AWS throttling, conflicts,
    connection failures); anything else about a line is a poison line.

    Examples
    --------
    >>> transient(ValueError("bad")), transient(ClientError({"Error": {"Code": "ThrottlingException"}}, "op"))
    (False, True)
    """
    if isinstance(exc, BotoCoreError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        reasons = {r.get("Code") for r in exc.response.get("CancellationReasons") or []}
        return code in TRANSIENT or bool(reasons & TRANSIENT_REASONS)
    return False


def dead_letter(table: Any, source: str, line: str, error: str, cursor: str | None, now: int) -> None:
    """Keep a poison line (one record per distinct line) so that the cursor can move past it."""
    table.put_item(
        Item={
            "PK": DEAD_LETTER_PK_PREFIX + source,
            "SK": hashlib.sha256(line.encode("utf-8", "replace")).hexdigest()[:32],
            "line": line[:32_000],
            "error": error[:1_000],
            "cursor": cursor or "",
            "at": now,
            "expires_at": now + DEAD_LETTER_TTL_S,
        }
    )


class PullError(Exception):
    """A source cannot be pulled (no such source)."""


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
    totals = {"lines": 0, "bad_lines": 0, "dead_letters": 0, "activities": 0, "engagements": 0, "dropped": 0}
    batch: list[tuple[str, list[Activity], list[AccountRef]]] = []  # (line, its activities, accounts)
    last_cursor: str | None = None

    def write(activities: list[Activity], accounts: list[AccountRef], batch_id: str) -> None:
        described = [(source, ref) for ref in accounts]
        stats = store.ingest(activities, f"{source}:{batch_id}", now, described)
        ownership.bind_codes(store.client, store.table_name, activities, now)  # codes posted on Bluesky...
        totals["activities"] += stats.activities
        totals["engagements"] += stats.engagements
        totals["dropped"] += stats.dropped_time
        if stats.dropped_time:
            logger.warning("events dropped for their time", extra={"source": source, **stats.dropped_reasons})
            for why, count in stats.dropped_reasons.items():
                metrics.add_metric(name=f"EventsDroppedTime_{why}", unit=MetricUnit.Count, value=count)

    def flush() -> None:
        nonlocal batch
        if last_cursor is None:
            return
        try:
            write(
                [a for _, acts, _ in batch for a in acts],
                [r for _, _, refs in batch for r in refs],
                last_cursor,
            )
        except Exception as exc:
            if transient(exc):
                raise
            for line, acts, refs in batch:  # find the poison line(s): each line alone
                try:
                    write(acts, refs, last_cursor)
                except Exception as line_exc:
                    if transient(line_exc):
                        raise
                    logger.exception("poison line kept in a dead-letter record", extra={"source": source})
                    dead_letter(table, source, line, repr(line_exc), last_cursor, now)
                    totals["dead_letters"] += 1
        save_cursor(table, source, last_cursor, now)
        batch = []

    for line in fetcher(cursor, limit):
        if not line.strip():
            continue
        totals["lines"] += 1
        try:
            parsed = parser.parse_line(line)
        except Exception as exc:  # a PayloadError, or a parser bug: either way a poison line
            totals["bad_lines"] += 1
            detail = exc.detail if isinstance(exc, PayloadError) else repr(exc)
            dead_letter(table, source, line, detail, last_cursor, now)
            totals["dead_letters"] += 1
            continue
        batch.append((line, parsed.activities, parsed.accounts))
        last_cursor = str(parsed.extra.get("cursor") or last_cursor)
        if sum(len(acts) + len(refs) for _, acts, refs in batch) >= BATCH:
            flush()
    flush()
    return totals


def handler(event: dict[str, Any], context: Any, fetcher: Fetcher | None = None) -> dict[str, Any]:
    """Scheduled entry point (EventBridge schedule with ``{"source": ...}``)."""
    source = str((event or {}).get("source") or "wikipedia")
    limit = int((event or {}).get("limit") or 2000)
    settings = get_settings()
    store = IngestTableWriter(aws.table(), aws.client("dynamodb"), settings.activity_ttl_days)
    totals = drain(source, fetcher or DEFAULT_FETCHERS[source], store, aws.table(), limit, int(clock()))
    logger.info("pulled", extra={"source": source, **totals})
    metrics.add_metric(name=f"Pulled_{source}", unit=MetricUnit.Count, value=totals["lines"])
    metrics.flush_metrics()
    return {"source": source, **totals, "cursor": json.dumps(load_cursor(aws.table(), source))}
