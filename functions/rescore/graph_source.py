"""Read the engagement graph out of the single table and hand it to the core as arrays.

Edge aggregates store, per engagement type, a count and a decayed sum relative to a fixed epoch
(``records.EdgeRecord``). The core takes one row per (pair, type) with a weight and a timestamp;
the timestamp given is the one at which ``count`` engagements would have the stored decayed sum,
so exponential decay at the storage half-life is exact. Accounts come with their follower count (the
larger of the account's and its counters') and their creation time where a network reported it
(``AccountRecord.created``, NaN otherwise): the integrity rules of v3 read both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.types import ENGAGEMENT_TYPES, NETWORKS, Accounts, Engagements
from functions.shared import keys as table_keys
from functions.shared.records import (
    DECAY_EPOCH,
    DECAY_HALF_LIFE_S,
    AccountRecord,
    CountersRecord,
    EdgeRecord,
    ProfileRecord,
    ScoreRecord,
    TopicEvidenceRecord,
)

TYPE_CODE = {name: code for code, name in enumerate(ENGAGEMENT_TYPES)}
NETWORK_CODE = {name: code for code, name in enumerate(NETWORKS)}


def effective_time(count: float, decayed: float) -> float:
    """The time ``t`` with ``count * 2**((t - epoch)/h) == decayed``.

    Examples
    --------
    >>> round(effective_time(2, 2.0))  # two engagements at the epoch itself
    1704067200
    """
    if count <= 0 or decayed <= 0:
        return float(DECAY_EPOCH)
    return DECAY_EPOCH + DECAY_HALF_LIFE_S * math.log2(decayed / count)


@dataclass
class TermEvidence:
    """What one account's posts carrying one term drew (``GraphSnapshot.term_evidence``)."""

    account: str  # "network:account_id"
    term: str
    posts: int = 0
    engagements: int = 0
    engagers: int = 0
    influence: float = 0.0  # the engagements weighed by what each engager passes on (see term_evidence)


@dataclass
class GraphSnapshot:
    """Everything the scoring pass reads, gathered from one scan of the table."""

    accounts: dict[str, AccountRecord] = field(default_factory=dict)  # key "network:account_id"
    counters: dict[str, CountersRecord] = field(default_factory=dict)
    profiles: dict[str, ProfileRecord] = field(default_factory=dict)
    edges: list[EdgeRecord] = field(default_factory=list)
    terms: list[TopicEvidenceRecord] = field(default_factory=list)
    scores: dict[str, ScoreRecord] = field(default_factory=dict)  # the active score of each profile
    optouts: set[str] = field(default_factory=set)  # opt-out marker keys (``keys.optout_pk``)

    def add(self, item: dict[str, Any]) -> None:
        pk, sk = item["PK"], item["SK"]
        if pk.startswith("OPTOUT#"):
            self.optouts.add(pk)
        elif pk.startswith("EDGES#"):
            self.edges.append(EdgeRecord.from_item(item))
        elif pk.startswith("ACCOUNT#"):
            if sk == "META":
                record = AccountRecord.from_item(item)
                self.accounts[f"{record.network}:{record.account_id}"] = record
            elif sk == "COUNTERS":
                counters = CountersRecord.from_item(item)
                self.counters[f"{counters.network}:{counters.account_id}"] = counters
            elif sk.startswith("TERM#"):
                self.terms.append(TopicEvidenceRecord.from_item(item))
        elif pk.startswith("PROFILE#") and sk == "META":
            profile = ProfileRecord.from_item(item)
            self.profiles[profile.profile_id] = profile
        elif pk.startswith("PROFILE#") and sk == "SCORE":
            score = ScoreRecord.from_item(item)
            self.scores[score.profile_id] = score

    def merge(self, other: GraphSnapshot) -> None:
        self.accounts.update(other.accounts)
        self.counters.update(other.counters)
        self.profiles.update(other.profiles)
        self.edges.extend(other.edges)
        self.terms.extend(other.terms)
        self.scores.update(other.scores)
        self.optouts |= other.optouts

    def opted_out(self, key: str) -> bool:
        """Does account ``"network:account_id"`` carry an opt-out marker (whether or not its META is
        still there: an opt-out is final, as engager and as author)."""
        network, _, account_id = key.partition(":")
        return any(pk in self.optouts for pk in table_keys.optout_pks(network, account_id))

    # --- to the core ---------------------------------------------------------------------------
    def to_core(self) -> tuple[Engagements, Accounts]:
        """Arrays for ``core.scoring.score_population``; profiles and accounts that opted out are left
        out, with every engagement they gave or received."""
        keys: dict[str, int] = {}
        live = {pid for pid, p in self.profiles.items() if not p.opted_out}

        def index(key: str) -> int:
            if key not in keys:
                keys[key] = len(keys)
            return keys[key]

        for key in self.accounts:
            if self._live(key, live):
                index(key)
        src: list[int] = []
        dst: list[int] = []
        weight: list[float] = []
        etype: list[int] = []
        ts: list[float] = []
        for edge in self.edges:
            if edge.network not in NETWORK_CODE:
                continue  # +K edges of old (``EDGES#renown#<profile>``) name profiles, not accounts
            author = f"{edge.network}:{edge.author_id}"
            engager = f"{edge.network}:{edge.engager_id}"
            if not self._live(author, live) or not self._live(engager, live):
                continue
            for type_name, count in edge.counts.items():
                if count <= 0 or type_name not in TYPE_CODE:
                    continue
                src.append(index(engager))
                dst.append(index(author))
                weight.append(float(count))
                etype.append(TYPE_CODE[type_name])
                ts.append(effective_time(count, float(edge.decayed.get(type_name, 0.0))))
        ids = list(keys)
        profile_ids: list[str] = []
        profile_index: dict[str, int] = {}
        profile_of = np.empty(len(ids), dtype=np.int64)
        for i, key in enumerate(ids):
            linked = self.accounts.get(key)
            pid = linked.profile_id if linked else f"unlinked:{key}"
            if pid not in profile_index:
                profile_index[pid] = len(profile_ids)
                profile_ids.append(pid)
            profile_of[i] = profile_index[pid]
        followers = np.array([self._followers(k) for k in ids], dtype=np.float64)
        posts = np.array([float(self.counters[k].posts) if k in self.counters else 0.0 for k in ids])
        network = np.array([NETWORK_CODE.get(k.split(":", 1)[0], 0) for k in ids], dtype=np.uint8)
        accounts = Accounts(
            ids=ids,
            network=network,
            profile=profile_of,
            followers=followers,
            posts=posts.astype(np.float64),
            created=np.array([self._created(k) for k in ids], dtype=np.float64),
            profile_ids=profile_ids,
        )
        engagements = Engagements(
            src=np.asarray(src, dtype=np.int64),
            dst=np.asarray(dst, dtype=np.int64),
            weight=np.asarray(weight, dtype=np.float64),
            etype=np.asarray(etype, dtype=np.uint8),
            ts=np.asarray(ts, dtype=np.float64),
        )
        return engagements, accounts

    def term_evidence(self, passes: dict[str, float] | None = None) -> list[TermEvidence]:
        """Topic evidence per (account, term): posts from the ``TERM#`` items, engagements and distinct
        engagers from the ``t_<term>`` counters of the account's received edges; with ``passes``
        (engager key -> what one engagement of theirs passes on), the engagements weighed by it."""
        rows: dict[tuple[str, str], TermEvidence] = {}

        def row(key: str, term: str) -> TermEvidence:
            found = rows.get((key, term))
            if found is None:
                found = rows[(key, term)] = TermEvidence(key, term)
            return found

        for record in self.terms:
            if self.opted_out(f"{record.network}:{record.account_id}"):
                continue
            entry = row(f"{record.network}:{record.account_id}", record.term)
            entry.posts += int(record.posts)
            entry.engagements += int(record.engagements)
        for edge in self.edges:
            author = f"{edge.network}:{edge.author_id}"
            if self.opted_out(author) or self.opted_out(f"{edge.network}:{edge.engager_id}"):
                continue
            for term, count in edge.terms.items():
                if count > 0:
                    entry = row(author, term)
                    entry.engagements += int(count)
                    entry.engagers += 1
                    if passes is not None:
                        entry.influence += count * passes.get(f"{edge.network}:{edge.engager_id}", 0.0)
        return list(rows.values())

    def _live(self, key: str, live: set[str]) -> bool:
        if self.opted_out(key):
            return False
        account = self.accounts.get(key)
        return account is None or account.profile_id in live or account.profile_id not in self.profiles

    def _created(self, key: str) -> float:
        """The account's creation time as its network reported it (checked at ingest), NaN if unknown."""
        account = self.accounts.get(key)
        return float(account.created) if account is not None and account.created is not None else math.nan

    def _followers(self, key: str) -> float:
        counters = self.counters.get(key)
        account = self.accounts.get(key)
        return float(max(counters.followers if counters else 0, account.followers if account else 0))


def scan_segment(
    table: Any, segment: int, total: int, page_items: int | None = None
) -> Iterator[dict[str, Any]]:
    """Items of one parallel-scan segment (activities and versioned scores are filtered out
    server-side; opt-out markers are kept). ``page_items``: items each page reads (``Limit``; None:
    DynamoDB's 1 MB pages)."""
    kwargs: dict[str, Any] = {
        "Segment": segment,
        "TotalSegments": total,
        "FilterExpression": "begins_with(PK, :e) OR (begins_with(PK, :a) AND NOT begins_with(SK, :act)) "
        "OR (begins_with(PK, :p) AND (SK = :meta OR SK = :score)) OR begins_with(PK, :o)",
        "ExpressionAttributeValues": {
            ":e": "EDGES#",
            ":a": "ACCOUNT#",
            ":act": "ACT#",
            ":p": "PROFILE#",
            ":meta": "META",
            ":score": "SCORE",
            ":o": "OPTOUT#",
        },
    }
    if page_items is not None:
        kwargs["Limit"] = int(page_items)
    while True:
        page = table.scan(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def read_snapshot(table: Any, segments: int = 4, page_items: int | None = None) -> GraphSnapshot:
    """Parallel scan of the whole table into a ``GraphSnapshot`` (``page_items``: see
    :func:`scan_segment`)."""

    def one(segment: int) -> GraphSnapshot:
        snap = GraphSnapshot()
        for item in scan_segment(table, segment, segments, page_items):
            snap.add(item)
        return snap

    result = GraphSnapshot()
    with ThreadPoolExecutor(max_workers=segments) as pool:
        for part in pool.map(one, range(segments)):
            result.merge(part)
    return result


def items_of(snapshot_items: Iterable[dict[str, Any]]) -> GraphSnapshot:
    """A snapshot from items already read (tests, S3 exports)."""
    snap = GraphSnapshot()
    for item in snapshot_items:
        snap.add(item)
    return snap
