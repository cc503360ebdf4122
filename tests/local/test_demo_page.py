"""The demo loader's Higgs deliveries: author posts and per-author batches."""

from __future__ import annotations

from renown.local.demo import HiggsEngagement, author_post, batches_by_author


def test_author_posts_are_distinct_and_carry_topic_hashtags() -> None:
    texts = [author_post("8614", i) for i in range(6)]
    assert len(set(texts)) == 6
    assert all("#" in t for t in texts)
    batches = list(batches_by_author([HiggsEngagement(str(i), "a", "reply", 0, "") for i in range(30)], 25))
    assert [len(b) for b in batches] == [25, 5]
