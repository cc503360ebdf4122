"""What the receiver does with one webhook request, apart from the Lambda plumbing.

Order of checks (each answered before anything is queued): unknown network 404, handshake (GET),
method 405, oversized body 413, missing or wrong signature 401 (over the raw body, constant time),
malformed body 400 (problem+json with the field errors), stale 400 (older than the network's retry
window, ``timecheck.retry_window``); a replay (the same delivery id within that window: typically a
network retrying after a lost acknowledgement) is acknowledged with 200 ``{"status": "duplicate"}``
and not queued again, so the network stops retrying and nothing changes; otherwise the verified
delivery goes to the queue and the answer is 200 ``{"status": "accepted"}``, with the events refused
alone (``rejected``: malformed; ``dropped``: refused for their time). If the queue refuses it (503),
the id is forgotten so that the network's retry is queued.

Whatever a signed body holds, ``receive`` answers with a 4xx or a 2xx: an adapter that fails in an
unexpected way is answered 400 (and logged), never a crash.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from functions.ingest.delivery import QueuedDelivery, body_delivery_id
from functions.ingest.http import WebhookRequest, problem, response
from functions.ingest.networks import NOT_WEBHOOKS, get_adapter
from functions.ingest.networks.base import HandshakeError, PayloadError
from functions.ingest.replay import ReplayGuard
from functions.ingest.timecheck import MAX_CLOCK_SKEW_S, admit, retry_window
from functions.ingest.websub import LeaseBook
from functions.shared.observability import logger
from functions.shared.settings import Settings


class QueueError(Exception):
    """The ingest queue refused a delivery (the receiver answers 503 so the network retries)."""


class Queue(Protocol):
    def send(self, delivery: QueuedDelivery) -> None: ...


@dataclass
class Outcome:
    """A response plus what happened (for metrics and logs)."""

    response: dict[str, Any]
    result: str  # accepted | handshake | not_found | rejected_<why>
    activities: int = 0


#: Networks whose handshake is a WebSub verification of a subscription the service asked for.
WEBSUB_NETWORKS = ("youtube",)


def _asked_for(query: Any, leases: LeaseBook | None, now: float) -> bool:
    """Did the service ask for the (un)subscription that this verification request confirms?"""
    mode, topic = str(query.get("hub.mode") or ""), str(query.get("hub.topic") or "")
    if leases is None or not topic or len(topic) > 2048:
        return False
    raw = str(query.get("hub.lease_seconds") or "0")
    lease_seconds = int(raw) if raw.isdigit() and len(raw) < 10 else 0
    return leases.confirm(mode, topic, lease_seconds, now)


def receive(
    request: WebhookRequest,
    settings: Settings,
    queue: Queue,
    guard: ReplayGuard,
    clock: Callable[[], float] = time.time,
    leases: LeaseBook | None = None,
) -> Outcome:
    """Answer one webhook request. A WebSub verification (YouTube) is confirmed only when ``leases``
    holds a pending request of the service for that mode and topic (``functions.ingest.websub``);
    otherwise it is answered 404, as WebSub asks of a subscriber that did not ask.

    Examples
    --------
    >>> from functions.ingest.replay import MemoryReplayGuard
    >>> out = receive(WebhookRequest("GET", "myspace"), Settings(), queue=None, guard=MemoryReplayGuard(1))
    >>> out.response["statusCode"], out.result
    (404, 'not_found')
    """
    adapter = get_adapter(request.network)
    if adapter is None:
        detail = NOT_WEBHOOKS.get(request.network, f"no webhook route for network {request.network[:40]!r}")
        return Outcome(problem(404, "unknown-network", "Unknown network", detail), "not_found")
    secret = settings.webhook_secret(adapter.network)
    if request.method == "GET":
        try:
            answer = adapter.handshake(request.query, secret, settings.verify_token(adapter.network))
        except HandshakeError as exc:
            return Outcome(
                problem(exc.status, "bad-handshake", "Handshake refused", exc.detail), "rejected_handshake"
            )
        if adapter.network in WEBSUB_NETWORKS and not _asked_for(request.query, leases, clock()):
            detail = "this service did not ask the hub for this subscription change (or asked too long ago)"
            return Outcome(
                problem(404, "unknown-subscription", "Subscription not requested", detail),
                "rejected_handshake",
            )
        return Outcome(response(answer.status, answer.body, answer.content_type), "handshake")
    if request.method != "POST":
        return Outcome(
            problem(405, "method-not-allowed", "Method not allowed", "use GET (handshake) or POST"),
            "rejected_method",
        )
    if len(request.body) > settings.max_body_bytes:
        detail = f"body is larger than {settings.max_body_bytes} bytes"
        return Outcome(problem(413, "body-too-large", "Payload too large", detail), "rejected_size")
    if request.body_error:
        return Outcome(
            problem(400, "malformed-body", "Malformed body", request.body_error), "rejected_malformed"
        )
    if not adapter.verify(request.headers, request.body, secret):
        detail = "the signature header is missing or does not match the body"
        return Outcome(
            problem(401, "bad-signature", "Signature verification failed", detail), "rejected_signature"
        )
    try:
        parsed = adapter.parse(request.body, request.headers)
        text = request.body.decode("utf-8")
    except PayloadError as exc:
        return Outcome(
            problem(400, "malformed-body", "Malformed delivery", exc.detail, exc.errors), "rejected_malformed"
        )
    except UnicodeDecodeError:
        return Outcome(
            problem(400, "malformed-body", "Malformed delivery", "body is not UTF-8"), "rejected_malformed"
        )
    except Exception as exc:  # an adapter bug must not lose the delivery to a 502: refuse it, log it
        logger.exception("adapter failed", extra={"network": adapter.network})
        detail = f"the delivery could not be read ({type(exc).__name__})"
        return Outcome(problem(400, "malformed-body", "Malformed delivery", detail), "rejected_malformed")
    now = clock()
    window = retry_window(adapter.network)
    if parsed.sent_at is not None and parsed.sent_at < now - window - MAX_CLOCK_SKEW_S:
        detail = f"delivery time {parsed.sent_at} is older than {adapter.network}'s retry window ({window} s)"
        return Outcome(problem(400, "stale-delivery", "Stale delivery", detail), "rejected_stale")
    timed = admit(parsed.activities, now)
    delivery_id = parsed.delivery_id or body_delivery_id(adapter.network, request.body)
    if not guard.first_time(delivery_id, now):
        body = json.dumps({"status": "duplicate", "delivery_id": delivery_id})
        return Outcome(response(200, body), "duplicate")
    delivery = QueuedDelivery(
        network=adapter.network, delivery_id=delivery_id, received_at=int(now), body=text
    )
    try:
        queue.send(delivery)
    except QueueError as exc:
        guard.forget(delivery_id)
        return Outcome(problem(503, "queue-unavailable", "Try again later", str(exc)), "queue_error")
    accepted: dict[str, Any] = {
        "status": "accepted",
        "delivery_id": delivery_id,
        "activities": len(timed.kept),
    }
    if parsed.rejected:
        accepted["rejected"] = parsed.rejected[:20]
    if timed.dropped:
        accepted["dropped"] = timed.reasons
    return Outcome(response(200, json.dumps(accepted)), "accepted", len(timed.kept))
