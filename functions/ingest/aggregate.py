"""Pure aggregation of one delivery's activities into the writes it needs (no AWS here).

Engagements between the same two accounts in one delivery become one edge update, every account's
counters one update, every (account, term) one topic-evidence update: the write count grows with the
distinct pairs, not with the engagements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from functions.ingest.networks.base import Activity
from functions.shared.records import DECAY_EPOCH, DECAY_HALF_LIFE_S

MAX_TERMS = 8


def decay_weight(timestamp: int) -> float:
    """``2 ** ((t - DECAY_EPOCH) / DECAY_HALF_LIFE_S)``: decay kept as an ADD-able sum.

    The decayed total at time ``now`` is ``sum * 2 ** (-(now - DECAY_EPOCH) / DECAY_HALF_LIFE_S)``.

    Examples
    --------
    >>> decay_weight(DECAY_EPOCH), decay_weight(DECAY_EPOCH + DECAY_HALF_LIFE_S)
    (1.0, 2.0)
    """
    return float(2.0 ** ((timestamp - DECAY_EPOCH) / DECAY_HALF_LIFE_S))


@dataclass
class EdgeDelta:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    decayed: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    first_ts: int = 2**62
    last_ts: int = 0


@dataclass
class CounterDelta:
    posts: int = 0
    given: int = 0
    received: int = 0
    followers: int | None = None


@dataclass
class TermDelta:
    posts: int = 0
    engagements: int = 0


@dataclass
class Plan:
    """Everything one delivery adds to the table."""

    activities: list[Activity] = field(default_factory=list)
    edges: dict[tuple[str, str, str], EdgeDelta] = field(default_factory=dict)  # (network, author, engager)
    counters: dict[tuple[str, str], CounterDelta] = field(default_factory=dict)
    terms: dict[tuple[str, str, str], TermDelta] = field(default_factory=dict)  # (network, account, term)
    engagements: int = 0


def plan(activities: list[Activity]) -> Plan:
    """Aggregate activities (already free of opted-out accounts) into a ``Plan``.

    Examples
    --------
    >>> from functions.ingest.networks.base import AccountRef
    >>> a = [Activity(network="twitter", kind="mention", activity_id=f"m{i}", timestamp=DECAY_EPOCH,
    ...      actor=AccountRef(account_id="2"), target=AccountRef(account_id="1"), terms=("#higgs",))
    ...      for i in range(3)]
    >>> p = plan(a)
    >>> p.edges[("twitter", "1", "2")].counts["mention"], p.counters[("twitter", "1")].received, p.engagements
    (3, 3, 3)
    """
    out = Plan()
    seen: set[tuple[str, str]] = set()
    for act in activities:
        if (act.network, act.activity_id) in seen:
            continue
        seen.add((act.network, act.activity_id))
        out.activities.append(act)
        actor_counter = out.counters.setdefault((act.network, act.actor.account_id), CounterDelta())
        if act.actor.followers is not None:
            actor_counter.followers = act.actor.followers
        if act.is_engagement and act.target is not None:
            out.engagements += 1
            edge = out.edges.setdefault(
                (act.network, act.target.account_id, act.actor.account_id), EdgeDelta()
            )
            edge.counts[act.kind] += 1
            edge.decayed[act.kind] += decay_weight(act.timestamp)
            edge.first_ts = min(edge.first_ts, act.timestamp)
            edge.last_ts = max(edge.last_ts, act.timestamp)
            actor_counter.given += 1
            target_counter = out.counters.setdefault((act.network, act.target.account_id), CounterDelta())
            target_counter.received += 1
            if act.target.followers is not None:
                target_counter.followers = act.target.followers
            for term in act.terms[:MAX_TERMS]:
                out.terms.setdefault((act.network, act.target.account_id, term), TermDelta()).engagements += 1
        elif act.kind == "post":
            actor_counter.posts += 1
            for term in act.terms[:MAX_TERMS]:
                out.terms.setdefault((act.network, act.actor.account_id, term), TermDelta()).posts += 1
    return out
