"""Which event times ingest accepts, and for how long a network may retry a delivery.

An event's own time decides how much it weighs (exponential decay, ``aggregate.decay_weight``), so it
is never trusted blindly:

* an event dated more than ``MAX_CLOCK_SKEW_S`` after now is refused (a reply dated a year ahead
  would weigh thousands of times a normal one);
* an event older than ``MAX_EVENT_AGE_S`` is refused (it weighs nothing any more after decay, and its
  dedupe claim may have expired: see ``claims``).

A refused event is dropped alone, with its reason (``future`` or ``too_old``); the rest of its
delivery or pull batch is kept.

Replays are harmless because every additive write is claimed per activity id (``claims``), so the
receiver no longer judges a delivery stale after 300 s: a delivery is refused as stale only when it
is older than its network's documented retry window (``RETRY_WINDOW_S``) plus the clock skew.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from functions.ingest.networks.base import Activity

DAY_S = 86_400
MAX_CLOCK_SKEW_S = 300  # how far ahead of our clock a sender's clock may be
MAX_EVENT_AGE_S = 365 * DAY_S  # 12 half-lives of decay: an older event weighs < 1/4,000 of a new one

# How long after an event each network may still (re)deliver it: its documented retry schedule, with
# room for our own outage. Deliveries older than this are refused at the receiver as stale.
RETRY_WINDOW_S: dict[str, int] = {
    "twitter": 2 * 3600,  # X Account Activity: 3 retries over 5 minutes (enterprise tier)
    "facebook": 2 * DAY_S,  # Meta: retries with decreasing frequency for up to 36 hours
    "instagram": 2 * DAY_S,  # same Meta webhooks
    "linkedin": DAY_S,  # LinkedIn retries failed notifications for a few hours
    "youtube": DAY_S,  # the WebSub hub retries a failed notification for hours
    "mastodon": 3 * DAY_S,  # Sidekiq retries of Webhooks::DeliveryWorker (exponential, ~2 days)
}
DEFAULT_RETRY_WINDOW_S = 2 * DAY_S


def retry_window(network: str) -> int:
    """Seconds after an event during which ``network`` may still deliver it.

    Examples
    --------
    >>> retry_window("facebook") >= 36 * 3600, retry_window("unknown") == DEFAULT_RETRY_WINDOW_S
    (True, True)
    """
    return RETRY_WINDOW_S.get(network, DEFAULT_RETRY_WINDOW_S)


def reason(timestamp: int, now: float) -> str | None:
    """Why an event time is refused (``"future"``, ``"too_old"``), or None when it is accepted.

    Examples
    --------
    >>> now = 1_764_000_000
    >>> reason(now, now), reason(now + 200, now), reason(now + 3600, now), reason(0, now)
    (None, None, 'future', 'too_old')
    """
    if timestamp > now + MAX_CLOCK_SKEW_S:
        return "future"
    if timestamp < now - MAX_EVENT_AGE_S:
        return "too_old"
    return None


@dataclass
class Admitted:
    """Activities whose time is accepted, and the refused ones by reason."""

    kept: list[Activity] = field(default_factory=list)
    dropped: list[tuple[Activity, str]] = field(default_factory=list)

    @property
    def reasons(self) -> dict[str, int]:
        return dict(Counter(why for _, why in self.dropped))


def admit(activities: Iterable[Activity], now: float) -> Admitted:
    """Split ``activities`` by ``reason``.

    Examples
    --------
    >>> from functions.ingest.networks.base import AccountRef
    >>> acts = [Activity(network="t", kind="post", activity_id=f"p{ts}", timestamp=ts,
    ...                  actor=AccountRef(account_id="1")) for ts in (0, 1_764_000_000, 2_999_999_999)]
    >>> out = admit(acts, 1_764_000_000)
    >>> [a.timestamp for a in out.kept], out.reasons
    ([1764000000], {'too_old': 1, 'future': 1})
    """
    out = Admitted()
    for act in activities:
        why = reason(act.timestamp, now)
        if why is None:
            out.kept.append(act)
        else:
            out.dropped.append((act, why))
    return out
