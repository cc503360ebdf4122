"""Per-activity claims: every additive write happens at most once per network activity id.

A claim is one small item, ``PK = CLAIM#<network>#<sha256(activity id)[:32]>``, ``SK = CLAIM``, with
a TTL (``expires_at``). It is put with ``attribute_not_exists(PK)`` in the SAME ``TransactWriteItems``
as the ``ADD`` updates the activity contributes to (its edge, its poster's ``posts`` counter and topic
evidence), so either the claim and the increments land together or neither does:

* the same event delivered to several subscribers (X sends one copy per subscribed user it
  concerns), a network's retry, an SQS redelivery, a replay or a backfill finds its claim and adds
  nothing;
* a delivery that fails half-way leaves whole transactions behind, never a partial count; its
  redelivery skips exactly the activities already claimed.

The key holds a hash, not the activity id, so a claim names no account. A claim lives until
``MAX_EVENT_AGE_S`` (plus a margin for queue retention and TTL lag) after its event: past that age
the event is refused by ``timecheck``, so an expired claim can never let it count again.
"""

from __future__ import annotations

import hashlib

from functions.ingest.timecheck import DAY_S, MAX_EVENT_AGE_S

CLAIM_PK_PREFIX = "CLAIM#"
CLAIM_SK = "CLAIM"
CLAIM_MARGIN_S = 30 * DAY_S  # > SQS retention (14 days) + DynamoDB TTL deletion lag (~2 days)


def claim_key(network: str, activity_id: str) -> dict[str, str]:
    """The key of the claim of one activity.

    Examples
    --------
    >>> key = claim_key("twitter", "like:1")
    >>> key["PK"].startswith("CLAIM#twitter#"), len(key["PK"]), key["SK"]
    (True, 46, 'CLAIM')
    """
    digest = hashlib.sha256(activity_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return {"PK": f"{CLAIM_PK_PREFIX}{network}#{digest}", "SK": CLAIM_SK}


def claim_expiry(timestamp: int, now: int) -> int:
    """When the claim of an event at ``timestamp`` may expire (unix seconds).

    Examples
    --------
    >>> claim_expiry(0, 10) == MAX_EVENT_AGE_S + CLAIM_MARGIN_S + 10
    True
    """
    return max(timestamp, now) + MAX_EVENT_AGE_S + CLAIM_MARGIN_S
