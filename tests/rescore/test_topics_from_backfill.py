"""Higgs-like tweets, imported by the backfill, give their author a topic in the scoring pass's topic
step, under the support rule; the store is a dict (the backfill's batch reads and writes), the rest is
the real code: the backfill object's lines, ``Backfill.run``, the snapshot, ``profile_extras`` and the
write step's ``scored_topics``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest

from core.calibration import CalibrationTable
from functions.ingest.backfill import Backfill, BackfillStats, read_activities
from functions.rescore.graph_source import GraphSnapshot
from functions.rescore.profile_extras import profile_extras, scored_topics, topics_dir
from renown.local.demo import HiggsEngagement, tweet_text
from renown.local.higgs_backfill import activity_lines

pytestmark = pytest.mark.skipif(topics_dir() is None, reason="the Klout topic ontology is not found")
NOW = 1_765_000_000


class MemoryTable:
    """The backfill's ``BulkTable`` over a dict."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.reads = self.writes = 0

    def get(self, key_list: list[tuple[str, str]], projection: str | None = None, done: Any = None) -> Any:
        return {k: dict(self.items[k]) for k in dict.fromkeys(key_list) if k in self.items}

    def put(self, items: Iterable[dict[str, Any]], done: Any = None) -> int:
        count = 0
        for item in items:
            self.items[(item["PK"], item["SK"])] = item
            count += 1
        return count


def topics_after_backfill(engagements: list[HiggsEngagement]) -> dict[str, list[dict[str, Any]]]:
    """Account id -> the topics its profile's score gets, after a backfill of ``engagements``."""
    table = MemoryTable()
    job = Backfill(None, "renown", ttl_days=90, job_id="higgs")
    job.bulk = table  # type: ignore[assignment]
    job.run(read_activities(list(activity_lines(engagements)), BackfillStats()), NOW)
    snapshot = GraphSnapshot()
    for item in table.items.values():
        snapshot.add(item)
    eng, acc = snapshot.to_core()
    extras = profile_extras(snapshot, eng, acc, "v1", float(NOW))
    raw = np.bincount(acc.profile[eng.dst], weights=eng.weight, minlength=acc.n_profiles)
    table_ = CalibrationTable(np.array([0.0, 1.0, 100.0]), np.array([1.0, 50.0, 100.0]))
    scored = scored_topics(
        [extras[p] for p in acc.profile_ids], np.full(acc.n_profiles, 50.0), "v1", raw, table_
    )
    return {key.split(":", 1)[1]: scored[int(acc.profile[i])] for i, key in enumerate(acc.ids)}


def tweets(
    writer: str, mentioned: list[str], hashtag: str = "", kind: str = "reply"
) -> list[HiggsEngagement]:
    """One tweet of ``writer`` per account in ``mentioned`` (its own id: a standalone post)."""
    return [
        HiggsEngagement(writer, m, "reply", NOW - 3_600 * (k + 1), f"{tweet_text(m)} {hashtag}".strip())
        for k, m in enumerate(mentioned)
    ]


def test_higgs_like_evidence_flows_from_a_backfilled_tweet_to_a_topic_on_the_profile() -> None:
    engagements: list[HiggsEngagement] = []
    # 8614 posts three tweets tagged #ParticlePhysics; six accounts reply to it with the hashtag
    engagements += tweets("8614", ["8614"] * 3, "#ParticlePhysics")
    for engager in ("11", "12", "13", "14", "15", "16"):
        engagements += tweets(engager, ["8614"], "#ParticlePhysics")
    # the lizards case: 777 posted one tweet; more accounts reply to it
    engagements += tweets("777", ["777"], "#ParticlePhysics")
    for engager in ("21", "22", "23", "24", "25", "26", "27", "28"):
        engagements += tweets(engager, ["777"], "#ParticlePhysics")
    # 5000 posts three tweets with the collection's subject alone; six accounts reply likewise
    engagements += tweets("5000", ["5000"] * 3)
    for engager in ("31", "32", "33", "34", "35", "36"):
        engagements += tweets(engager, ["5000"])
    # 9000 replies to three accounts with the hashtag (engagements, not posts of its own); six reply to it
    engagements += tweets("9000", ["1", "2", "3"], "#ParticlePhysics")
    for engager in ("41", "42", "43", "44", "45", "46"):
        engagements += tweets(engager, ["9000"], "#ParticlePhysics")
    topics = topics_after_backfill(engagements)
    slugs = [t["slug"] for t in topics["8614"]]
    assert slugs[0] == "particle-physics" and {"physics", "science"} <= set(slugs)
    assert all(1 <= t["score"] <= 100 for t in topics["8614"])
    assert topics["777"] == []  # one tweet, however many replies
    assert topics["5000"] == []  # "Higgs boson" names no topic of the ontology
    assert topics["11"] == []  # one tweet each, engaged by nobody
    assert topics["9000"] == []  # a reply or a mention is the writer's engagement, not a post of its own
