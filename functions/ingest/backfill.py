"""Backfill: an account's (or a network's) recent history imported in bulk, not one webhook per event.

(Over 500 lines: the bulk import's steps, below, run in order on one object, then the job record and the
handler; the items themselves come from the webhook path's builders: identity, deltas, claims, store.)

Input is one S3 object of normalised activities (``networks.base.Activity``, one JSON object a line,
gzip when the key ends in ``.gz``), written by whatever fetched the history (a network's timeline API
when an account connects, a data set when a network is onboarded). The import leaves exactly the
items the webhook path leaves for the same activities (accounts, profiles and links on first sight,
standalone posts, edges, ``posts`` counters, topic evidence and one claim per counted activity), with
a few requests per thousand items instead of several per delivery:

1. the object is read and validated line by line (a bad line is counted and skipped, never fatal),
   events are time-checked (``timecheck``) and de-duplicated by ``(network, activity id)``;
2. opt-out markers and existing accounts are read with ``BatchGetItem``; activities naming an
   opted-out account are dropped; accounts seen for the first time are created;
3. the claims of the activities that add to counts are read: an activity claimed already (by a
   webhook delivery, or an earlier run) is left out;
4. the rest is aggregated over the whole object into one delta per item (``deltas``); the items are
   read, each delta applied and the result put with ``BatchWriteItem``.

   Claims and items of activities naming an account this job creates are not read: the webhook path
   (and this job) create an activity's accounts before counting it, so none can exist. Onboarding a
   network, where nearly every account is new, costs the account reads and the writes alone;
5. the claims of the activities counted are put, so a later webhook delivery of the same event
   adds nothing.

Exactly once, by activity id and by (job, item): every aggregate item the job wrote carries the job's
id in its ``backfills`` set, and the whole object's contribution to an item is written in one put.
A second run of the same object (or a run resumed after a failure) skips the activities already
claimed and the items already carrying its id; claims are only written once every aggregate is, so
a claim found always means its counts landed. Activities the webhook path counted before the
backfill are claimed and skipped. What batch writes cannot close is a webhook delivery counting the
same item *while* the backfill reads and puts it (between step 4's read and put): backfills import
history from before the subscription started, and the job record (``BACKFILL#<job>``) shows when one
runs.

Reads and writes go out in parallel (``THREADS`` requests at a time). The job record carries the
progress (phase, items done of total) while the import runs.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from itertools import chain, islice
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.ingest.aggregate import additive, plan
from functions.ingest.claims import claim_expiry, claim_key
from functions.ingest.deltas import ItemDelta, item_deltas
from functions.ingest.identity import first_sight_items
from functions.ingest.networks.base import AccountRef, Activity
from functions.ingest.store import FOLLOWERS_LOG_STEP, activity_record
from functions.ingest.timecheck import admit
from functions.shared import aws, keys
from functions.shared.attribute_values import attribute_values, plain_values
from functions.shared.keys import AccountKey
from functions.shared.observability import MetricUnit, logger, metrics
from functions.shared.settings import get_settings

THREADS = 4  # requests in flight at a time
READ_BATCH = 100  # BatchGetItem's limit
WRITE_BATCH = 25  # BatchWriteItem's limit
ATTEMPTS = 10  # rounds of unprocessed keys/items before giving up
MARKER = "backfills"  # the set of backfill jobs whose contribution an aggregate item holds
JOB_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
Progress = Callable[[str, int, int], None]


class BackfillRequest(BaseModel):
    """The function's input: where the activities are, and the job's id (derived from the object's
    location and ETag when not given, so that the same object is the same job)."""

    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1024)
    job_id: str | None = Field(default=None, pattern=JOB_ID.pattern)


@dataclass
class BackfillStats:
    """What a backfill did (the function's answer, also kept in the job record)."""

    lines: int = 0
    invalid: int = 0
    dropped_time: int = 0
    dropped_optout: int = 0
    duplicates: int = 0  # activities claimed already (webhooks, an earlier run)
    new_accounts: int = 0
    activities: int = 0  # standalone posts counted
    engagements: int = 0  # engagements counted
    items_written: int = 0
    items_skipped: int = 0  # aggregate items that already held this job's contribution
    read_requests: int = 0
    write_requests: int = 0
    seconds: float = 0.0
    invalid_examples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return self.read_requests + self.write_requests

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["requests"] = self.requests
        out["requests_per_item"] = round(self.requests / max(self.items_written, 1), 4)
        return out


def read_activities(lines: Iterable[bytes | str], stats: BackfillStats) -> list[Activity]:
    """Validated activities of the object's lines, first copy of each ``(network, activity id)``.

    Examples
    --------
    >>> stats = BackfillStats()
    >>> line = ('{"network": "twitter", "kind": "mention", "activity_id": "m1", "timestamp": 1,'
    ...         ' "actor": {"account_id": "2"}, "target": {"account_id": "1"}}')
    >>> [a.activity_id for a in read_activities([line, line, "{]", ""], stats)], stats.invalid
    (['m1'], 1)
    """
    out: list[Activity] = []
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        stats.lines += 1
        try:
            act = Activity.model_validate_json(line)
        except ValidationError as exc:
            stats.invalid += 1
            if len(stats.invalid_examples) < 5:
                stats.invalid_examples.append(f"line {number}: {exc.errors(include_url=False)[0]['msg']}")
            continue
        if (act.network, act.activity_id) not in seen:
            seen.add((act.network, act.activity_id))
            out.append(act)
    return out


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of ``size`` items from any iterable (the last one shorter).

    Examples
    --------
    >>> list(batched(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class BulkTable:
    """Parallel ``BatchGetItem``/``BatchWriteItem`` on the single table (plain values in and out),
    counting requests."""

    def __init__(self, client: Any, table_name: str, threads: int = THREADS) -> None:
        self.client = client
        self.table_name = table_name
        self.threads = threads
        self.reads = 0
        self.writes = 0
        self._lock = threading.Lock()

    def _count(self, reads: int = 0, writes: int = 0) -> None:
        with self._lock:
            self.reads += reads
            self.writes += writes

    def get(
        self, key_list: list[tuple[str, str]], projection: str | None = None, done: Progress | None = None
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The items found among ``key_list`` (``(PK, SK)`` pairs), by key."""
        unique = list(dict.fromkeys(key_list))

        def one(chunk: list[tuple[str, str]]) -> list[dict[str, Any]]:
            spec: dict[str, Any] = {"Keys": [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in chunk]}
            if projection:
                spec["ProjectionExpression"] = projection
            request: dict[str, Any] = {self.table_name: spec}
            found: list[dict[str, Any]] = []
            for attempt in range(ATTEMPTS):
                answer = self.client.batch_get_item(RequestItems=request)
                self._count(reads=1)
                found.extend(answer.get("Responses", {}).get(self.table_name, []))
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError(f"{len(request[self.table_name]['Keys'])} keys left unread")
            if done is not None:
                done("", len(chunk), 0)
            return found

        out: dict[tuple[str, str], dict[str, Any]] = {}
        with ThreadPoolExecutor(self.threads) as pool:
            for found in pool.map(one, _chunks(unique, READ_BATCH)):
                for raw in found:
                    item = plain_values(raw)
                    out[(item["PK"], item["SK"])] = item
        return out

    def put(self, items: Iterable[dict[str, Any]], done: Progress | None = None) -> int:
        """Put ``items`` (plain values; one item per key) in parallel batches, a bounded number in
        flight (``items`` may be a generator); returns the count."""

        def one(chunk: list[dict[str, Any]]) -> None:
            requests = [{"PutRequest": {"Item": attribute_values(i)}} for i in chunk]
            request: dict[str, Any] = {self.table_name: requests}
            for attempt in range(ATTEMPTS):
                answer = self.client.batch_write_item(RequestItems=request)
                self._count(writes=1)
                request = answer.get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError(f"{len(request[self.table_name])} items left unwritten")
            if done is not None:
                done("", len(chunk), 0)

        count = 0
        pending: set[Future[None]] = set()
        with ThreadPoolExecutor(self.threads) as pool:
            for chunk in batched(items, WRITE_BATCH):
                if len(pending) >= 4 * self.threads:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()
                pending.add(pool.submit(one, chunk))
                count += len(chunk)
            for future in pending:
                future.result()
        return count


def _merge(deltas: list[ItemDelta]) -> list[ItemDelta]:
    """One delta per item (a counters item can get ``posts`` and ``followers`` apart)."""
    merged: dict[tuple[str, str], ItemDelta] = {}
    for delta in deltas:
        known = merged.get(delta.key_tuple)
        if known is None:
            merged[delta.key_tuple] = replace(delta, adds=dict(delta.adds), sets=dict(delta.sets))
            continue
        for name, value in delta.adds.items():
            known.adds[name] = known.adds.get(name, 0) + value
        known.sets |= delta.sets
    return list(merged.values())


class Backfill:
    """One import (see the module docstring).

    Examples
    --------
    >>> job = Backfill(client, "renown", ttl_days=90, job_id="higgs")  # doctest: +SKIP
    >>> job.run(activities, now=1700000000).as_dict()["items_written"]  # doctest: +SKIP
    812345
    """

    def __init__(
        self,
        client: Any,
        table_name: str,
        ttl_days: int,
        job_id: str,
        threads: int = THREADS,
        progress: Progress | None = None,
    ) -> None:
        if not JOB_ID.match(job_id):
            raise ValueError(f"job id {job_id!r} must match {JOB_ID.pattern}")
        self.bulk = BulkTable(client, table_name, threads)
        self.ttl_s = ttl_days * 86_400
        self.job_id = job_id
        self.progress = progress or (lambda phase, done, total: None)
        self.stats = BackfillStats()
        self.known_followers: dict[AccountKey, int] = {}  # of the accounts that exist already

    # --- phases ------------------------------------------------------------------------------------
    def run(self, activities: list[Activity], now: int) -> BackfillStats:
        started = time.monotonic()
        stats = self.stats
        timed = admit(activities, now)
        stats.dropped_time = len(timed.dropped)
        refs = self._refs(timed.kept)
        opted_out, missing = self._lookup(refs)
        kept = [
            a
            for a in timed.kept
            if (a.network, a.actor.account_id) not in opted_out
            and (a.target is None or (a.network, a.target.account_id) not in opted_out)
        ]
        stats.dropped_optout = len(timed.kept) - len(kept)
        needed = {(a.network, r.account_id) for a in kept for r in (a.actor, a.target) if r is not None}
        created = missing & needed
        everything = plan(kept)  # standalone posts and follower counts (idempotent writes)
        counting = additive(kept)
        # what names an account this job creates cannot have been counted or aggregated before: the
        # webhook path (and this job) create an activity's accounts before they count it
        known = [a for a in counting if not self._names(a, created)]
        self.progress("reading claims", 0, len(known))
        claimed = self.bulk.get([self._claim_tuple(a) for a in known], projection="PK, SK", done=self._tick)
        fresh = [a for a in counting if self._claim_tuple(a) not in claimed]
        stats.duplicates = len(counting) - len(fresh)
        work = plan(fresh)
        deltas = _merge(item_deltas(work, now) + self._followers(everything))
        reread = [d.key_tuple for d in deltas if not created.intersection(d.owners)]
        self.progress("reading aggregate items", 0, len(reread))
        existing = self.bulk.get(reread, done=self._tick)
        posts = self._activity_items(everything.activities)
        claims = (
            claim_key(a.network, a.activity_id)
            | {"expires_at": claim_expiry(a.timestamp, now), "backfill": self.job_id}
            for a in fresh
        )
        self.progress("writing", 0, 3 * len(created) + len(posts) + len(deltas) + len(fresh))
        stats.new_accounts = len(created)
        stats.items_written += self.bulk.put(
            chain(
                (i for key in sorted(created) for i in first_sight_items(key[0], refs[key], now)),
                posts,
                self._aggregates(deltas, existing),
            ),
            done=self._tick,
        )
        # claims last: a claim found always means the counts it stands for landed
        stats.items_written += self.bulk.put(claims, done=self._tick)
        stats.engagements = work.engagements
        stats.activities = len(work.activities)
        stats.read_requests, stats.write_requests = self.bulk.reads, self.bulk.writes
        stats.seconds = round(time.monotonic() - started, 2)
        return stats

    def _aggregates(
        self, deltas: list[ItemDelta], existing: dict[tuple[str, str], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Every delta applied to its item, marked with the job (items marked already are skipped)."""
        for delta in deltas:
            before = existing.get(delta.key_tuple)
            marks = set(before.get(MARKER) or ()) if before else set()
            if self.job_id in marks:
                self.stats.items_skipped += 1
                continue
            item = delta.apply(before)
            item[MARKER] = marks | {self.job_id}
            yield item

    def _tick(self, phase: str, done: int, total: int) -> None:
        self.progress("", done, total)

    @staticmethod
    def _names(act: Activity, accounts: set[AccountKey]) -> bool:
        return (act.network, act.actor.account_id) in accounts or (
            act.target is not None and (act.network, act.target.account_id) in accounts
        )

    @staticmethod
    def _claim_tuple(act: Activity) -> tuple[str, str]:
        key = claim_key(act.network, act.activity_id)
        return key["PK"], key["SK"]

    @staticmethod
    def _refs(activities: list[Activity]) -> dict[AccountKey, AccountRef]:
        """Every account named, as the ref with the most followers (some events carry none)."""
        refs: dict[AccountKey, AccountRef] = {}
        for act in activities:
            for ref in (act.actor, act.target):
                if ref is not None:
                    known = refs.get((act.network, ref.account_id))
                    if known is None or (ref.followers or 0) > (known.followers or 0):
                        refs[(act.network, ref.account_id)] = ref
        return refs

    def _lookup(self, refs: dict[AccountKey, AccountRef]) -> tuple[set[AccountKey], set[AccountKey]]:
        """``(opted_out, missing)`` among the accounts named (never cached: opt-out holds)."""
        # the keyed marker and the one of old (``keys.optout_pks``): both hold
        markers = {(pk, keys.META_SK): (n, a) for n, a in refs for pk in keys.optout_pks(n, a)}
        accounts = {(keys.account_pk(n, a), keys.META_SK): (n, a) for n, a in refs}
        self.progress("checking opt-out markers and accounts", 0, len(markers) + len(accounts))
        found = self.bulk.get(list(markers) + list(accounts), projection="PK, SK, followers", done=self._tick)
        opted_out = {markers[k] for k in found if k in markers}
        for key, item in found.items():
            if key in accounts:
                self.known_followers[accounts[key]] = int(item.get("followers", 0))
        return opted_out, set(refs) - set(self.known_followers)

    def _followers(self, work: Any) -> list[ItemDelta]:
        """Follower counts of accounts that existed already, when they moved (a new account keeps
        its count on its account item, as on the webhook path)."""
        out: list[ItemDelta] = []
        for (network, account), counter in work.counters.items():
            known = self.known_followers.get((network, account))
            if (
                counter.followers is not None
                and known is not None
                and abs(math.log1p(counter.followers) - math.log1p(known)) > FOLLOWERS_LOG_STEP
            ):
                out.append(
                    ItemDelta(
                        {"PK": keys.account_pk(network, account), "SK": keys.COUNTERS_SK},
                        sets={"network": network, "account_id": account, "followers": counter.followers},
                        owners=((network, account),),
                    )
                )
        return out

    def _activity_items(self, posts: list[Activity]) -> list[dict[str, Any]]:
        items = {}
        for act in posts:
            record = activity_record(act, self.ttl_s).to_item()
            items[(record["PK"], record["SK"])] = record
        return list(items.values())


# --- the job record and the function -----------------------------------------------------------------


def job_key(job_id: str) -> dict[str, str]:
    """The job record's key.

    Examples
    --------
    >>> job_key("higgs")
    {'PK': 'BACKFILL#higgs', 'SK': 'META'}
    """
    return {"PK": f"BACKFILL#{job_id}", "SK": keys.META_SK}


class JobRecorder:
    """Keeps ``BACKFILL#<job>`` up to date: status, phase, items done of total (at most one write
    every ``every_s`` seconds while running)."""

    def __init__(self, table: Any, job_id: str, source: str, every_s: float = 1.0) -> None:
        self.table = table
        self.job_id = job_id
        self.source = source
        self.every_s = every_s
        self.phase = "starting"
        self.done = 0
        self.total = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def write(self, status: str, **extra: Any) -> None:
        item = job_key(self.job_id) | {
            "job_id": self.job_id,
            "source": self.source,
            "status": status,
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "updated_at": int(time.time()),
        }
        self.table.put_item(Item=item | extra)

    def __call__(self, phase: str, done: int, total: int) -> None:
        with self._lock:
            if phase:  # a new phase: its total
                self.phase, self.done, self.total = phase, 0, total
            self.done += done
            due = time.monotonic() - self._last >= self.every_s
            if due:
                self._last = time.monotonic()
        if due or phase:
            self.write("running")


def _lines(body: bytes, key: str) -> list[bytes]:
    if key.endswith(".gz"):
        body = gzip.decompress(body)
    return body.splitlines()


def run_request(request: BackfillRequest, now: int | None = None) -> dict[str, Any]:
    """Read the object, import it, record the job; returns the stats."""
    settings = get_settings()
    s3 = aws.client("s3")
    head = s3.head_object(Bucket=request.bucket, Key=request.key)
    job_id = (
        request.job_id
        or hashlib.sha256(f"{request.bucket}/{request.key}#{head.get('ETag', '')}".encode()).hexdigest()[:24]
    )
    table = aws.table()
    recorder = JobRecorder(table, job_id, f"s3://{request.bucket}/{request.key}")
    recorder.phase = "reading the object"
    recorder.write("running")
    stats = BackfillStats()
    body = s3.get_object(Bucket=request.bucket, Key=request.key)["Body"].read()
    activities = read_activities(_lines(body, request.key), stats)
    client = aws.bulk_client("dynamodb")
    job = Backfill(client, table.name, settings.activity_ttl_days, job_id, progress=recorder)
    job.stats = stats
    try:
        job.run(activities, int(time.time()) if now is None else now)
    except Exception as exc:
        recorder.write("failed", error=str(exc)[:500])
        raise
    recorder.phase = "done"
    recorder.done = recorder.total
    result = stats.as_dict() | {"job_id": job_id}
    recorder.write("succeeded", stats={k: v for k, v in result.items() if not isinstance(v, float)})
    metrics.add_metric(name="BackfillItemsWritten", unit=MetricUnit.Count, value=stats.items_written)
    metrics.add_metric(name="BackfillDuplicates", unit=MetricUnit.Count, value=stats.duplicates)
    logger.info("backfill done", extra=result)
    return result


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: ``{"bucket", "key", "job_id"?}`` -> the backfill's stats."""
    request = BackfillRequest.model_validate(event)
    try:
        return run_request(request)
    finally:
        metrics.flush_metrics()
