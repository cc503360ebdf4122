"""Ingest processor Lambda (``functions.ingest.processor.handler``): SQS batch of queued deliveries.

Each record is one verified delivery (``QueuedDelivery``). Records are processed with powertools'
``BatchProcessor`` (a failing record is reported back as a batch item failure and, after
``maxReceiveCount`` receives, lands in the dead-letter queue, while the rest of the batch lands) and
made idempotent on the delivery id with powertools' DynamoDB idempotency: the same delivery twice
changes nothing. Imports nothing heavy (no numba, no numpy).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from functions.ingest import ownership
from functions.ingest.delivery import DeliveryRecord, QueuedDelivery
from functions.ingest.networks import parse_body
from functions.ingest.store import IngestStats, IngestTableWriter
from functions.shared import aws
from functions.shared.observability import MetricUnit, logger, metrics
from functions.shared.settings import get_settings

clock: Callable[[], float] = time.time  # tests replace it to replay recorded samples
IDEMPOTENCY_TTL_S = 7 * 86_400  # longer than any network retries (and than SQS retention)


class DeliveryError(Exception):
    """A queued delivery names a network nobody parses (a poison message)."""


@cache
def store() -> IngestTableWriter:
    settings = get_settings()
    return IngestTableWriter(aws.table(), aws.client("dynamodb"), settings.activity_ttl_days)


def report(stats: IngestStats, source: str) -> None:
    """Metrics and a log line for what ingest refused or found counted already."""
    if stats.dropped_optout:
        metrics.add_metric(name="ActivitiesDroppedOptOut", unit=MetricUnit.Count, value=stats.dropped_optout)
    for why, count in stats.dropped_reasons.items():
        metrics.add_metric(name=f"EventsDroppedTime_{why}", unit=MetricUnit.Count, value=count)
    if stats.dropped_time:
        logger.warning(
            "events dropped for their time",
            extra={"source": source, "dropped": stats.dropped_reasons},
        )
    for why, count in stats.dropped_metadata.items():
        metrics.add_metric(name=f"AccountMetadataDropped_{why}", unit=MetricUnit.Count, value=count)
    if stats.dropped_metadata:
        logger.warning(
            "account metadata dropped", extra={"source": source, "dropped": stats.dropped_metadata}
        )
    if stats.duplicates:
        metrics.add_metric(name="ActivitiesCountedAlready", unit=MetricUnit.Count, value=stats.duplicates)


def process_delivery(delivery: QueuedDelivery) -> dict[str, Any]:
    """Parse one delivery with its network's adapter and write it (not idempotent by itself).

    Examples
    --------
    >>> process_delivery(QueuedDelivery(network="twitter", delivery_id="d", received_at=0,
    ...     body='{"for_user_id": "1"}'))  # doctest: +SKIP
    {'activities': 0, 'engagements': 0, ...}
    """
    try:
        parsed = parse_body(delivery.network, delivery.body)
    except KeyError as exc:
        raise DeliveryError(f"no adapter for network {delivery.network!r}") from exc
    accounts = [(delivery.network, ref) for ref in parsed.accounts]
    stats = store().ingest(parsed.activities, delivery.delivery_id, int(clock()), accounts)
    report(stats, delivery.network)
    proofs = ownership.bind_codes(store().client, store().table_name, parsed.activities, int(clock()))
    for outcome, count in proofs.items():
        metrics.add_metric(name=f"OwnershipCodes_{outcome}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="Engagements", unit=MetricUnit.Count, value=stats.engagements)
    metrics.add_metric(name="ItemsWritten", unit=MetricUnit.Count, value=stats.items_written)
    return stats.as_dict()


@cache
def idempotency() -> tuple[IdempotencyConfig, Any]:
    """The idempotency config and the idempotent ``process_delivery`` (built on first use, so that
    tests and the local stack can point the settings at their tables first)."""
    settings = get_settings()
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=aws.client("dynamodb")
    )
    config = IdempotencyConfig(
        event_key_jmespath="delivery_id",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_TTL_S,
    )
    wrapped = idempotent_function(
        data_keyword_argument="delivery", config=config, persistence_store=persistence
    )(process_delivery)
    return config, wrapped


processor = BatchProcessor(
    event_type=EventType.SQS, model=DeliveryRecord, raise_on_entire_batch_failure=False
)


def record_handler(record: DeliveryRecord) -> dict[str, Any]:
    """One SQS record: its body is a ``QueuedDelivery`` (validated by the parser model)."""
    _, process = idempotency()
    result: dict[str, Any] = process(delivery=record.body)
    return result


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: partial batch response (``batchItemFailures``)."""
    config, _ = idempotency()
    config.register_lambda_context(context)
    metrics.add_metric(name="DeliveryBatches", unit=MetricUnit.Count, value=1)
    try:
        answer = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return dict(answer)
    finally:
        metrics.flush_metrics()
