"""The local demo page's leader rows: escaped, with style and topics."""

from __future__ import annotations

from renown.local.demo import HiggsEngagement, author_post, batches_by_author
from renown.local.demo_runner import _leader_row


def test_leader_row_shows_style_and_topics_escaped() -> None:
    row = _leader_row(
        {
            "profile_id": "twitter-1",
            "name": "<b>Ann</b>",
            "style": {"name": "Specialist"},
            "topics": [{"slug": "physics", "name": "Physics", "score": 61}],
        },
        "pk_1",
    )
    assert "&lt;b&gt;Ann&lt;/b&gt;" in row and "<b>" not in row
    assert "Specialist" in row and "Physics (61)" in row
    assert "influential about" not in _leader_row({"profile_id": "x", "name": "y"}, "k")


def test_author_posts_are_distinct_and_carry_topic_hashtags() -> None:
    texts = [author_post("8614", i) for i in range(6)]
    assert len(set(texts)) == 6
    assert all("#" in t for t in texts)
    batches = list(batches_by_author([HiggsEngagement(str(i), "a", "reply", 0, "") for i in range(30)], 25))
    assert [len(b) for b in batches] == [25, 5]
