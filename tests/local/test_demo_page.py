"""The demo loader's Higgs deliveries: what a tweet is known to say, and per-author batches."""

from __future__ import annotations

from renown.local.demo import SUBJECT, HiggsEngagement, batches_by_author, read_higgs
from tests.conftest import ROOT


def test_a_higgs_tweet_carries_the_collection_subject_and_its_mention_only() -> None:
    sample = read_higgs(ROOT.parent / "shared" / "datasets" / "higgs-twitter", now=1_765_000_000, limit=50)
    assert len(sample) == 50
    assert all(e.text == f"{SUBJECT} @{e.author}" for e in sample)  # the same for every account
    batches = list(batches_by_author([HiggsEngagement(str(i), "a", "reply", 0, "") for i in range(30)], 25))
    assert [len(b) for b in batches] == [25, 5]
