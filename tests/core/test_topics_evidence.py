"""Topics from aggregated evidence follow the same support rule as topics from posts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidParametersError
from core.topics import assign_topics, load_ontology, topics_from_evidence

ONTOLOGY = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "klout-topics"
needs_data = pytest.mark.skipif(not ONTOLOGY.exists(), reason=f"Klout topics not found at {ONTOLOGY}")


@needs_data
def test_one_viral_post_is_not_a_topic_but_steady_posting_is() -> None:
    onto = load_ontology(ONTOLOGY)
    scores = np.array([70.0, 70.0])
    # profile 0: one post about photography with 500 engagements; profile 1: six posts, 30 engagements
    topics = topics_from_evidence(onto, [0, 1], ["#photography", "photography"], [1, 6], [500, 30], scores)
    assert topics[0] == []
    assert [slug for slug, _ in topics[1]] == ["photography"]
    assert 1 <= topics[1][0][1] <= 70


@needs_data
def test_agrees_with_the_post_level_rule_when_engagers_are_distinct() -> None:
    onto = load_ontology(ONTOLOGY)
    scores = np.array([64.0])
    posts = ["physics today"] * 4 + ["my cat"] * 2
    engagers = [[f"e{i}", f"f{i}"] for i in range(4)] + [["x"], ["y"]]
    by_post = assign_topics(onto, [0] * 6, posts, engagers, scores)
    by_evidence = topics_from_evidence(onto, [0, 0], ["physics", "cat"], [4, 2], [8, 2], scores)
    assert by_post == by_evidence


def test_bad_evidence_is_refused() -> None:
    from core.topics import TopicOntology

    onto = TopicOntology(["1"], ["physics"], ["Physics"], {})
    with pytest.raises(InvalidParametersError):
        topics_from_evidence(onto, [0, 1], ["a"], [1], [1], np.array([1.0]))
    with pytest.raises(InvalidParametersError):
        topics_from_evidence(onto, [3], ["a"], [1], [1], np.array([1.0]))
    with pytest.raises(InvalidParametersError):
        topics_from_evidence(onto, [0], ["a"], [-1], [1], np.array([1.0]))
