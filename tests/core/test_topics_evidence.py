"""Topics from aggregated evidence follow the same support rule as topics from posts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import InvalidParametersError
from core.topics import assign_topics, load_ontology, score_topics, topic_support, topics_from_evidence

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


def _physics() -> Any:
    from core.topics import TopicOntology

    onto = TopicOntology(["1", "2"], ["physics", "science"], ["Physics", "Science"], {})
    onto.index.update({"physics": 0, "science": 1})
    return onto


def test_one_devoted_fan_is_not_a_topic_but_many_engagers_are() -> None:
    onto = _physics()
    # same posts and engagements; only the number of distinct engagers differs
    fan = topic_support(onto, [0], ["#physics"], [5], [40], 1, evidence_engagers=[1])
    crowd = topic_support(onto, [0], ["#physics"], [5], [40], 1, evidence_engagers=[12])
    assert fan == [[]]
    assert crowd == [[("physics", 1.0)]]


def test_support_then_scores_equals_the_one_step_rule() -> None:
    onto = _physics()
    rng = np.random.default_rng(5)
    n = 6
    prof = rng.integers(0, n, 40)
    terms = [str(rng.choice(["#physics", "science", "cats"])) for _ in range(40)]
    posts = rng.integers(0, 4, 40)
    engaged = rng.integers(0, 20, 40)
    scores = rng.uniform(1, 100, n)
    support = topic_support(onto, prof, terms, posts, engaged, n)
    assert score_topics(support, scores) == topics_from_evidence(onto, prof, terms, posts, engaged, scores)
    for p, chosen in enumerate(support):
        shares = [share for _, share in chosen]
        assert shares == sorted(shares, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in shares)
        mine = prof == p
        for slug, share in chosen:
            # the share is the topic's engagements over all the profile's evidence rows
            rows = [i for i in np.flatnonzero(mine) if terms[i].lstrip("#") == slug]
            assert share == pytest.approx(engaged[rows].sum() / engaged[mine].sum())


def test_topic_scores_keep_the_best_topic_max() -> None:
    from core.versions import resolve

    support = [[(f"t{i}", 1.0 / (i + 1)) for i in range(30)]]
    (chosen,) = score_topics(support, np.array([80.0]))
    assert len(chosen) == resolve("v1").topic_max
    assert chosen[0] == ("t0", 80)
    assert [s for _, s in chosen] == sorted((s for _, s in chosen), reverse=True)
    with pytest.raises(InvalidParametersError):
        score_topics(support, np.array([80.0, 1.0]))


def test_share_counts_each_engagement_once_when_posts_carry_several_terms() -> None:
    onto = _physics()
    # 10 engagements, each on a post tagged both #physics and #lhc: one term has no topic
    rows = (["#physics", "#lhc"], [3, 3], [10, 10])
    by_rows = topic_support(onto, [0, 0], *rows, 1)
    by_total = topic_support(onto, [0, 0], *rows, 1, profile_engagements=[10.0])
    assert by_rows == [[("physics", 0.5)]]  # counted once per term
    assert by_total == [[("physics", 1.0)]]
    with pytest.raises(InvalidParametersError):
        topic_support(onto, [0, 0], *rows, 1, profile_engagements=[10.0, 1.0])
    with pytest.raises(InvalidParametersError):
        topic_support(onto, [0, 0], *rows, 1, profile_engagements=[-1.0])


def _mapper() -> Any:
    from core.topic_map import TopicMapper

    # Reptiles > Lizards; Science > Physics
    return TopicMapper(
        ["1", "2", "3", "4"],
        ["Reptiles", "Lizards", "Science", "Physics"],
        [[], [0], [], [2]],
        [[], [], [], []],
    )


def test_the_lizards_case_one_viral_post_never_makes_a_topic_with_the_mapper() -> None:
    m = _mapper()
    # profile 0: one blog post about lizards, shared by 5,000 people; profile 1: steady physics posting
    support = topic_support(
        m,
        [0, 1],
        ["#lizards", "physics"],
        [1, 6],
        [5000, 30],
        2,
        evidence_engagers=[5000, 12],
    )
    assert support[0] == []
    assert [slug for slug, _ in support[1]] == ["physics", "science"]  # the parent is supported too
    # the same lizard posts, several and engaged by several people: now a topic, with its parent
    steady = topic_support(m, [0], ["#lizards"], [4], [40], 1, evidence_engagers=[9])
    assert [slug for slug, _ in steady[0]] == ["lizards", "reptiles"]
    # several posts but one devoted fan: not a topic
    fan = topic_support(m, [0], ["#lizards"], [4], [40], 1, evidence_engagers=[1])
    assert fan == [[]]


def test_the_lizards_case_holds_when_one_post_carries_several_terms_of_the_topic() -> None:
    m = _mapper()
    # one viral post tagged #lizards #lizard #reptiles, its words "lizards" too: ingest keeps a row
    # per term, each counting the one post and its 5,000 engagers
    terms = ["#lizards", "#lizard", "#reptiles", "lizards"]
    viral = topic_support(m, [0] * 4, terms, [1] * 4, [5000] * 4, 1, evidence_engagers=[5000] * 4)
    assert viral == [[]]
    # three posts, each tagged twice, engaged by the same three people: 3 engagers, not 6
    few = topic_support(m, [0, 0], ["#lizards", "lizards"], [3, 3], [9, 9], 1, evidence_engagers=[3, 3])
    assert few == [[]]
    # posts and engagers that one term alone proves are enough
    enough = topic_support(m, [0, 0], ["#lizards", "#reptiles"], [3, 1], [9, 2], 1, evidence_engagers=[5, 2])
    assert {slug for slug, _ in enough[0]} == {"lizards", "reptiles"}
    # a profile's accounts on two networks: two posts and three engagers each, other posts and people
    linked = topic_support(m, [0, 0], ["#lizards", "#lizards"], [2, 2], [6, 6], 1, evidence_engagers=[3, 3])
    assert {slug for slug, _ in linked[0]} == {"lizards", "reptiles"}


def test_topic_scores_are_the_influence_received_through_the_topic_posts() -> None:
    from core.calibration import CalibrationTable
    from core.topics import influence_topic_scores

    m = _mapper()
    table = CalibrationTable(np.array([0.0, 1.0, 4.0, 16.0]), np.array([1.0, 40.0, 70.0, 100.0]))
    # both profiles post 4 physics posts to 8 engagers; profile 0's engagers pass on much more rank
    support = topic_support(
        m,
        [0, 0, 1, 1],
        ["physics", "cats", "physics", "cats"],
        [4, 4, 4, 4],
        [8, 8, 8, 8],
        2,
        evidence_engagers=[8, 8, 8, 8],
        evidence_influence=[12.0, 4.0, 2.0, 14.0],
        profile_influence=[16.0, 16.0],
    )
    assert dict(support[0])["physics"] == pytest.approx(0.75)
    assert dict(support[1])["physics"] == pytest.approx(0.125)
    raw = np.array([8.0, 8.0])  # same overall influence
    scores = influence_topic_scores(support, raw, table)
    physics = [dict(s)["physics"] for s in scores]
    assert physics[0] > physics[1]  # the same engagement count, from more influential engagers
    overall = np.interp(raw, table.raw, table.score)
    assert all(p <= o for p, o in zip(physics, overall, strict=True))
    # the score of the rank received through the topic's posts, on the same scale
    assert physics[0] == round(float(np.interp(8.0 * 0.75, table.raw, table.score)))
    with pytest.raises(InvalidParametersError):
        topic_support(m, [0], ["physics"], [1], [1], 1, evidence_influence=[1.0])
