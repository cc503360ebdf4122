"""Every engagement counted exactly once, under concurrency, copies, failures and redeliveries.

X's Account Activity API sends one event to every subscribed user it concerns, each copy with its own
``for_user_id`` (so its own body hash and delivery id); SQS delivers at least once; a Lambda can fail
after some of its writes. The test runs the real processor (powertools batch and idempotency, the
store's transactions) in concurrent "containers" (threads, each with its own store and batch
processor, as Lambda containers are), on a simulated SQS queue that redelivers failed records and,
now and then, records that succeeded. Transactions fail at random, before they commit and after they
commit (a lost acknowledgement). At the end the stored edge counts equal the distinct activities.

moto's in-process backends are not thread-safe under concurrent writers (see the field notes), so
every AWS request of the test goes through one lock; the interleaving of whole requests between
containers (the part the claims must survive) is kept. Transactions run as the local stack runs them
(conditions checked first, no per-item table copies: ``checked_moto_transactions`` in conftest).
"""

from __future__ import annotations

import collections
import os
import random
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import botocore.client
import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from botocore.exceptions import ClientError

from functions.ingest import processor
from functions.ingest.delivery import QueuedDelivery, body_delivery_id
from functions.ingest.store import IngestTableWriter
from functions.shared import aws
from functions.shared.settings import get_settings
from renown.demo_payloads import twitter_delivery
from tests.conftest import LambdaContext
from tests.ingest.conftest import SECRETS, Stack, sqs_event

TIMES: collections.Counter[str] = collections.Counter()
CALLS: collections.Counter[str] = collections.Counter()
SEED = 13
EVENTS = int(os.environ.get("RENOWN_EXACTLY_ONCE_EVENTS", "1500"))  # distinct activities
BUNDLE = (1, 4)  # events per delivery
SUBSCRIBERS = (1, 3)  # copies of a delivery, one per subscribed user it concerns
CONTAINERS = 6
FAIL_BEFORE, FAIL_AFTER = 0.06, 0.04  # per transaction: refused, or committed with a lost answer
REDELIVER = 0.05  # a record that succeeded comes again (SQS is at least once)
KINDS = ("like", "mention", "reply", "share")


@pytest.fixture()
def serialised_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One AWS request at a time (moto's backends are not thread-safe)."""
    lock = threading.RLock()
    original = botocore.client.BaseClient._make_api_call

    def locked(self: Any, operation: str, params: dict[str, Any]) -> Any:
        with lock:
            t0 = time.perf_counter()
            try:
                return original(self, operation, params)
            finally:
                TIMES[operation] += time.perf_counter() - t0
                CALLS[operation] += 1

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", locked)
    yield


class FaultyStore(IngestTableWriter):
    """A store whose transactions fail at random: before they commit, or after (the answer lost)."""

    injected: ClassVar[collections.Counter[str]] = collections.Counter()
    lock = threading.Lock()

    def __init__(self, *args: Any, seed: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng = random.Random(seed)

    def transact(self, items: list[dict[str, Any]]) -> None:
        roll = self.rng.random()
        if roll < FAIL_BEFORE:
            self._count("before_commit")
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "Transact")
        super().transact(items)
        if roll < FAIL_BEFORE + FAIL_AFTER:
            self._count("after_commit")
            raise ConnectionError("injected: the transaction committed, its answer was lost")

    def _count(self, what: str) -> None:
        with self.lock:
            self.injected[what] += 1


def build_deliveries(
    now: int,
) -> tuple[list[QueuedDelivery], int, collections.Counter[tuple[str, str, str]]]:
    """Deliveries (every subscriber's copy), the number of distinct bundles of events, and the expected
    count per (author, engager, kind)."""
    rng = random.Random(SEED)
    authors = [str(1000 + i) for i in range(25)]
    engagers = [str(5000 + i) for i in range(120)]
    expected: collections.Counter[tuple[str, str, str]] = collections.Counter()
    deliveries: list[QueuedDelivery] = []
    made = bundles = 0
    while made < EVENTS:
        bundles += 1
        bundle = []
        for _ in range(min(rng.randint(*BUNDLE), EVENTS - made)):
            author, engager, kind = rng.choice(authors), rng.choice(engagers), rng.choice(KINDS)
            ts = now - rng.randint(0, 3600)
            bundle.append((engager, author, kind, ts, f"event {made}"))
            expected[(author, engager, kind)] += 1
            made += 1
        concerned = sorted({e[1] for e in bundle} | {e[0] for e in bundle})
        for user in rng.sample(concerned, min(len(concerned), rng.randint(*SUBSCRIBERS))):
            body, _ = twitter_delivery(bundle, {}, SECRETS["twitter"], for_user_id=user)
            deliveries.append(
                QueuedDelivery(
                    network="twitter",
                    delivery_id=body_delivery_id("twitter", body),
                    received_at=now,
                    body=body.decode(),
                )
            )
    rng.shuffle(deliveries)
    return deliveries, bundles, expected


def stored_counts(stack: Stack) -> collections.Counter[tuple[str, str, str]]:
    out: collections.Counter[tuple[str, str, str]] = collections.Counter()
    pages = aws.client("dynamodb").get_paginator("scan").paginate(TableName=get_settings().table_name)
    for page in pages:
        for item in page["Items"]:
            if item["PK"]["S"].startswith("EDGES#twitter#"):
                for name, value in item.items():
                    if name.startswith("c_"):
                        key = (item["author_id"]["S"], item["engager_id"]["S"], name[2:])
                        out[key] += int(value["N"])
    return out


def test_concurrent_copies_failures_and_redeliveries_count_each_activity_once(
    stack: Stack, serialised_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = int(time.time())
    deliveries, bundles, expected = build_deliveries(now)
    queue: collections.deque[dict[str, Any]] = collections.deque(
        {"body": d.model_dump_json(), "id": f"m{i}"} for i, d in enumerate(deliveries)
    )
    queue_lock = threading.Lock()
    figures: collections.Counter[str] = collections.Counter()
    local = threading.local()
    FaultyStore.injected.clear()
    settings = get_settings()

    def container_store() -> IngestTableWriter:
        store: IngestTableWriter = local.store
        return store

    container_store.cache_clear = lambda: None  # type: ignore[attr-defined]  # as the cached original
    monkeypatch.setattr(processor, "store", container_store)

    def container(seed: int) -> None:
        rng = random.Random(seed)
        local.store = FaultyStore(aws.table(), aws.client("dynamodb"), settings.activity_ttl_days, seed=seed)
        local.store.sleep = lambda _s: None
        while True:
            with queue_lock:
                batch = [queue.popleft() for _ in range(min(10, len(queue)))]
            if not batch:
                with queue_lock:
                    if not queue and figures["in_flight"] == 0:
                        return
                time.sleep(0.01)
                continue
            with queue_lock:
                figures["in_flight"] += 1
            try:
                event = sqs_event([{"body": m["body"], "MessageId": m["id"]} for m in batch])
                answer = process_partial_response(
                    event=event,
                    record_handler=processor.record_handler,
                    processor=BatchProcessor(event_type=EventType.SQS, model=processor.DeliveryRecord),
                    context=LambdaContext(aws_request_id=f"c{seed}-{rng.random()}"),
                )
                failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
                with queue_lock:
                    figures["receives"] += len(batch)
                    figures["failed_records"] += len(failed)
                    for message in batch:
                        if message["id"] in failed:
                            queue.append(message)  # visibility timeout over: SQS delivers it again
                        elif rng.random() < REDELIVER:
                            figures["redelivered_ok"] += 1
                            queue.append(message)
            finally:
                with queue_lock:
                    figures["in_flight"] -= 1

    config, _ = processor.idempotency()
    config.register_lambda_context(LambdaContext())
    threads = [threading.Thread(target=container, args=(SEED * 100 + i,)) for i in range(CONTAINERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.monotonic() - started
    stored = stored_counts(stack)
    claims = sum(
        1
        for page in aws.client("dynamodb").get_paginator("scan").paginate(TableName=settings.table_name)
        for item in page["Items"]
        if item["PK"]["S"].startswith("CLAIM#twitter#")
    )
    print(
        f"\n{EVENTS} distinct activities in {len(deliveries)} deliveries"
        f" ({bundles} distinct, {len(deliveries) - bundles} cross-subscriber copies),"
        f" {figures['receives']} records received by {CONTAINERS} containers in {elapsed:.1f} s;"
        f" failed records {figures['failed_records']}, redelivered after success {figures['redelivered_ok']};"
        f" injected failures {dict(FaultyStore.injected)};"
        f" stored engagements {sum(stored.values())}, claims {claims}, expected {sum(expected.values())}"
    )
    print("AWS requests (count, seconds):", {k: (CALLS[k], round(v, 2)) for k, v in TIMES.items()})
    assert not any(thread.is_alive() for thread in threads)
    assert FaultyStore.injected["before_commit"] > 0 and FaultyStore.injected["after_commit"] > 0
    assert figures["failed_records"] > 0 and figures["redelivered_ok"] > 0
    assert len(deliveries) - bundles >= bundles // 2  # many cross-subscriber copies
    assert stored == expected
    assert claims == EVENTS
