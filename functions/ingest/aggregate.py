"""Pure aggregation of one delivery's activities into the writes it needs (no AWS here).

An engagement costs its edge ``ADD`` (one per distinct engager-author pair, however many engagements
the pair has in the delivery); its topic evidence rides on the same write (``t_<term>`` counters on the
edge). Standalone posts add an activity item, the poster's ``posts`` counter and its ``TERM#`` items.

Engagements between the same two accounts in one delivery become one edge update, every account's
counters one update, every (account, term) one topic-evidence update: the write count grows with the
distinct pairs, not with the engagements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from functions.ingest.networks.base import Activity
from functions.shared.records import DECAY_EPOCH, DECAY_HALF_LIFE_S

MAX_TERMS = 8  # terms kept per standalone post
MAX_EDGE_TERMS = 4  # terms kept per engagement, on its edge item (ranked_terms): the edge stays < 1 KB


def _rank(term: str) -> int:
    """What the topic mapper gets most from first: hashtags, link domains, two-word names
    (``higgs-boson``: a name the ontology may hold whole), mentions, then single keywords."""
    if term.startswith("#"):
        return 0
    if term.startswith("domain:"):
        return 1
    if term.startswith("@"):
        return 3
    return 2 if "-" in term else 4


def ranked_terms(terms: tuple[str, ...], limit: int) -> list[str]:
    """The first ``limit`` distinct terms, by :func:`_rank` (ties in the post's order).

    Examples
    --------
    >>> ranked_terms(("@cern", "boson", "higgs", "higgs-boson", "#physics"), 3)
    ['#physics', 'higgs-boson', '@cern']
    """
    return sorted(dict.fromkeys(terms), key=_rank)[:limit]


def edge_terms(terms: tuple[str, ...]) -> list[str]:
    """The terms an engagement adds to its edge: at most ``MAX_EDGE_TERMS``, by :func:`ranked_terms`.

    Examples
    --------
    >>> edge_terms(("boson", "#higgs", "cern", "news", "#lhc", "day"))
    ['#higgs', '#lhc', 'boson', 'cern']
    >>> edge_terms(("@user8614", "@8614", "boson", "discovery", "higgs", "higgs-boson", "boson-discovery"))
    ['higgs-boson', 'boson-discovery', '@user8614', '@8614']
    """
    return ranked_terms(terms, MAX_EDGE_TERMS)


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
    terms: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # topic evidence (t_<term>)


@dataclass
class CounterDelta:
    posts: int = 0
    followers: int | None = None


@dataclass
class TermDelta:
    posts: int = 0
    engagements: int = 0


@dataclass
class Plan:
    """Everything one delivery adds to the table.

    ``activities`` are the *standalone* posts only (kept as ``ACT#`` items): an engagement, and a post
    that is itself an engagement (a mention, reply or quote tweet), is recorded by its edge alone.
    Counters hold standalone posts and follower counts; ``given``/``received`` are the sums of the
    edges (derived when scoring), not counted per engagement.
    """

    activities: list[Activity] = field(default_factory=list)
    edges: dict[tuple[str, str, str], EdgeDelta] = field(default_factory=dict)  # (network, author, engager)
    counters: dict[tuple[str, str], CounterDelta] = field(default_factory=dict)
    terms: dict[tuple[str, str, str], TermDelta] = field(default_factory=dict)  # (network, account, term)
    engagements: int = 0
    engagement_posts: int = 0  # posts that are engagements (recorded by their edge only)


def engagement_post_ids(activities: list[Activity]) -> set[tuple[str, str, str]]:
    """``(network, actor, post id)`` of the posts that are engagements themselves.

    Adapters emit a mention, reply or quote tweet (a Mastodon reply, ...) as a ``post`` plus the
    engagement; the engagement carries the post's id as its ``post_id`` or inside its activity id
    (``reply:<post id>:<target>``).

    Examples
    --------
    >>> from functions.ingest.networks.base import AccountRef
    >>> me, you = AccountRef(account_id="2"), AccountRef(account_id="1")
    >>> acts = [Activity(network="t", kind="post", activity_id="post:9", timestamp=0, actor=me, post_id="9"),
    ...         Activity(network="t", kind="reply", activity_id="reply:9:1", timestamp=0, actor=me,
    ...                  target=you, post_id="5")]
    >>> sorted(engagement_post_ids(acts))
    [('t', '2', '5'), ('t', '2', '9')]
    """
    out: set[tuple[str, str, str]] = set()
    for act in activities:
        if act.is_engagement:
            if act.post_id:
                out.add((act.network, act.actor.account_id, act.post_id))
            parts = act.activity_id.split(":")
            if len(parts) > 1:
                out.add((act.network, act.actor.account_id, parts[1]))
    return out


def additive(activities: list[Activity]) -> list[Activity]:
    """The activities that add to counts, once per ``(network, activity id)``: engagements with a
    target and standalone posts (a post that is itself an engagement is recorded by its edge only).

    Examples
    --------
    >>> from functions.ingest.networks.base import AccountRef
    >>> me, you = AccountRef(account_id="2"), AccountRef(account_id="1")
    >>> acts = [Activity(network="t", kind="post", activity_id="post:9", timestamp=0, actor=me, post_id="9"),
    ...         Activity(network="t", kind="mention", activity_id="mention:9:1", timestamp=0, actor=me,
    ...                  target=you, post_id="9"),
    ...         Activity(network="t", kind="post", activity_id="post:8", timestamp=0, actor=me, post_id="8")]
    >>> [a.activity_id for a in additive(acts + acts)]
    ['mention:9:1', 'post:8']
    """
    engagement_posts = engagement_post_ids(activities)
    out: list[Activity] = []
    seen: set[tuple[str, str]] = set()
    for act in activities:
        if (act.network, act.activity_id) in seen:
            continue
        seen.add((act.network, act.activity_id))
        own = (act.network, act.actor.account_id, act.post_id or "")
        if act.is_engagement or (act.kind == "post" and own not in engagement_posts):
            out.append(act)
    return out


def update_keys(act: Activity) -> list[tuple[str, ...]]:
    """The items an additive activity adds to (``edge``, ``counter`` and ``term`` keys), as ``plan``
    aggregates them: a transaction holds each item once.

    Examples
    --------
    >>> from functions.ingest.networks.base import AccountRef
    >>> post = Activity(network="t", kind="post", activity_id="post:8", timestamp=0,
    ...                 actor=AccountRef(account_id="2"), post_id="8", terms=("#a",))
    >>> update_keys(post)
    [('counter', 't', '2'), ('term', 't', '2', '#a')]
    """
    if act.is_engagement and act.target is not None:
        return [("edge", act.network, act.target.account_id, act.actor.account_id)]
    account = act.actor.account_id
    return [("counter", act.network, account)] + [
        ("term", act.network, account, term) for term in ranked_terms(act.terms, MAX_TERMS)
    ]


def plan(activities: list[Activity]) -> Plan:
    """Aggregate activities (already free of opted-out accounts) into a ``Plan``.

    Examples
    --------
    >>> from functions.ingest.networks.base import AccountRef
    >>> a = [Activity(network="twitter", kind="mention", activity_id=f"m{i}", timestamp=DECAY_EPOCH,
    ...      actor=AccountRef(account_id="2"), target=AccountRef(account_id="1"), terms=("#higgs",))
    ...      for i in range(3)]
    >>> p = plan(a)
    >>> p.edges[("twitter", "1", "2")].counts["mention"], p.edges[("twitter", "1", "2")].terms["#higgs"]
    (3, 3)
    >>> p.engagements, len(p.activities), p.counters
    (3, 0, {})
    """
    out = Plan()
    seen: set[tuple[str, str]] = set()
    engagement_posts = engagement_post_ids(activities)
    for act in activities:
        if (act.network, act.activity_id) in seen:
            continue
        seen.add((act.network, act.activity_id))
        for ref in (act.actor, act.target):
            if ref is not None and ref.followers is not None:  # the largest a delivery reports
                counter = out.counters.setdefault((act.network, ref.account_id), CounterDelta())
                counter.followers = max(counter.followers or 0, ref.followers)
        if act.is_engagement and act.target is not None:
            out.engagements += 1
            edge = out.edges.setdefault(
                (act.network, act.target.account_id, act.actor.account_id), EdgeDelta()
            )
            edge.counts[act.kind] += 1
            edge.decayed[act.kind] += decay_weight(act.timestamp)
            edge.first_ts = min(edge.first_ts, act.timestamp)
            edge.last_ts = max(edge.last_ts, act.timestamp)
            for term in edge_terms(act.terms):
                edge.terms[term] += 1
        elif act.kind == "post":
            if (act.network, act.actor.account_id, act.post_id or "") in engagement_posts:
                out.engagement_posts += 1
                continue
            out.activities.append(act)
            out.counters.setdefault((act.network, act.actor.account_id), CounterDelta()).posts += 1
            for term in ranked_terms(act.terms, MAX_TERMS):
                out.terms.setdefault((act.network, act.actor.account_id, term), TermDelta()).posts += 1
    return out
