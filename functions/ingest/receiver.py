"""Webhook receiver Lambda (``functions.ingest.receiver.handler``): REST API ``ANY /webhooks/{network}``.

Thin: read the event, call ``intake.receive``, answer. Imports nothing heavy (no numba, no numpy).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.ingest.delivery import QueuedDelivery
from functions.ingest.http import WebhookRequest, problem
from functions.ingest.intake import Outcome, QueueError, receive
from functions.ingest.replay import MemoryReplayGuard
from functions.ingest.timecheck import MAX_CLOCK_SKEW_S, RETRY_WINDOW_S
from functions.ingest.websub import TableLeaseBook
from functions.shared import aws
from functions.shared.observability import MetricUnit, logger, metrics
from functions.shared.settings import get_settings


class SqsQueue:
    """The ingest queue (``settings.ingest_queue_url``)."""

    def __init__(self, queue_url: str | None) -> None:
        self.queue_url = queue_url

    def send(self, delivery: QueuedDelivery) -> None:
        if not self.queue_url:
            raise QueueError("RENOWN_INGEST_QUEUE_URL is not set")
        try:
            aws.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=delivery.model_dump_json())
        except (BotoCoreError, ClientError) as exc:
            raise QueueError(f"could not queue the delivery: {type(exc).__name__}") from exc


clock: Callable[[], float] = time.time  # tests replace it to replay recorded samples


@cache
def _guard() -> MemoryReplayGuard:
    """Delivery ids remembered for as long as a delivery may be accepted (the longest retry window)."""
    return MemoryReplayGuard(window_s=max(RETRY_WINDOW_S.values()) + MAX_CLOCK_SKEW_S)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point.

    Examples
    --------
    >>> event = {"httpMethod": "GET", "pathParameters": {"network": "myspace"}}
    >>> handler(event, None)["statusCode"]  # doctest: +SKIP
    404
    """
    settings = get_settings()
    request = WebhookRequest.from_event(event, settings.max_body_bytes)
    try:
        queue = SqsQueue(settings.ingest_queue_url)
        leases = TableLeaseBook(aws.client("dynamodb"), settings.table_name)
        outcome = receive(request, settings, queue, _guard(), clock, leases)
    except Exception:  # a bug, not the sender's fault: a problem+json 500 (the network retries), not a 502
        logger.exception("receiver failed", extra={"network": request.network[:40]})
        detail = "the delivery could not be handled; it was not queued: retry later"
        outcome = Outcome(problem(500, "internal-error", "Internal error", detail), "error")
    logger.info(
        "webhook",
        extra={
            "network": request.network[:40],
            "result": outcome.result,
            "status": outcome.response["statusCode"],
        },
    )
    metrics.add_metric(name=f"Webhook_{outcome.result}", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()
    return outcome.response
