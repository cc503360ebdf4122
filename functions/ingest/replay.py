"""Replay protection for the receiver: a delivery id seen within the freshness window is acknowledged
as a duplicate and not queued again.

Staleness is checked against the delivery's own time (older than ``max_delivery_age_s`` is refused),
so a guard only has to remember ids for that window. ``MemoryReplayGuard`` remembers them per
container; a replay that lands on another container is still harmless, because the processor's
idempotency (keyed by the same delivery id) makes the second copy change nothing.
``TableReplayGuard`` shares the memory across containers with one conditional put per delivery
(needs ``dynamodb:PutItem`` on the table for the receiver).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Protocol

from botocore.exceptions import ClientError

REPLAY_PK_PREFIX = "DELIVERY#"


class ReplayGuard(Protocol):
    def first_time(self, delivery_id: str, now: float) -> bool:
        """True the first time ``delivery_id`` is seen within the window, False for a replay."""
        ...

    def forget(self, delivery_id: str) -> None:
        """Drop ``delivery_id`` (it could not be queued: the network's retry must get through)."""
        ...


class MemoryReplayGuard:
    """Bounded in-process memory of recent delivery ids.

    Examples
    --------
    >>> guard = MemoryReplayGuard(window_s=60)
    >>> guard.first_time("a", 0.0), guard.first_time("a", 1.0), guard.first_time("a", 100.0)
    (True, False, True)
    """

    def __init__(self, window_s: float, capacity: int = 100_000) -> None:
        self.window_s = window_s
        self.capacity = capacity
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, delivery_id: str, now: float) -> bool:
        while self._seen and (
            len(self._seen) >= self.capacity or next(iter(self._seen.values())) < now - self.window_s
        ):
            self._seen.popitem(last=False)
        seen_at = self._seen.get(delivery_id)
        if seen_at is not None and seen_at >= now - self.window_s:
            return False
        self._seen[delivery_id] = now
        self._seen.move_to_end(delivery_id)
        return True

    def forget(self, delivery_id: str) -> None:
        self._seen.pop(delivery_id, None)


class TableReplayGuard:
    """Delivery ids remembered in the table (``DELIVERY#<id>``, TTL ``expires_at``)."""

    def __init__(self, table: Any, window_s: float) -> None:
        self.table = table
        self.window_s = window_s

    def first_time(self, delivery_id: str, now: float) -> bool:
        try:
            self.table.put_item(
                Item={
                    "PK": REPLAY_PK_PREFIX + delivery_id,
                    "SK": "SEEN",
                    "expires_at": int(now + self.window_s),
                },
                ConditionExpression="attribute_not_exists(PK) OR expires_at < :now",
                ExpressionAttributeValues={":now": int(now or time.time())},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def forget(self, delivery_id: str) -> None:
        self.table.delete_item(Key={"PK": REPLAY_PK_PREFIX + delivery_id, "SK": "SEEN"})
