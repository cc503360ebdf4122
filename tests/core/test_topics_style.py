"""Topics on the real Klout ontology, and style axes."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidParametersError
from core.style import AXES, STYLE_NAMES, style
from core.topics import ATTRIBUTION, assign_topics, load_ontology, match_topics
from core.types import Accounts, Engagements


@pytest.fixture(scope="module")
def onto(topics_dir):
    return load_ontology(topics_dir)


def test_ontology_loads_with_attribution_and_big_ids(onto):
    assert len(onto) == 8033
    assert "CC BY 3.0" in onto.attribution and onto.attribution == ATTRIBUTION
    assert any(int(i) > 2**63 for i in onto.ids)  # kept as strings, no overflow
    assert "particle-physics" in onto.slugs
    assert onto.parents  # hierarchy present


def test_matching_hashtags_ngrams_and_links(onto):
    slugs = {
        onto.slugs[i] for i in match_topics("Big day for #ParticlePhysics at https://www.nasa.gov/a", onto)
    }
    assert {"particle-physics", "nasa"} <= slugs
    slugs = {onto.slugs[i] for i in match_topics("I love particle physics", onto)}
    assert "particle-physics" in slugs


def test_a_topic_needs_support_from_several_posts_and_engagers(onto):
    scores = np.array([70.0, 70.0])
    # profile 0: one viral post about physics with 500 engagers -> nothing
    # profile 1: three posts about physics with 6 distinct engagers -> physics
    posts = ["physics!", "more physics", "physics again", "physics today"]
    engagers = [[f"u{i}" for i in range(500)], ["a", "b"], ["c", "d"], ["e", "f"]]
    out = assign_topics(onto, [0, 1, 1, 1], posts, engagers, scores)
    assert out[0] == []
    assert [s for s, _ in out[1]] == ["physics"]
    assert 1 <= out[1][0][1] <= 100
    # the same engager repeated does not count as support
    out = assign_topics(onto, [1, 1, 1], posts[1:], [["a"] * 5, ["a"], ["a"]], scores)
    assert out[1] == []


def test_assign_topics_validates(onto):
    with pytest.raises(InvalidParametersError):
        assign_topics(onto, [0, 1], ["x"], [[]], np.array([1.0]))


def test_style_axes_and_names():
    n = 12
    acc = Accounts.from_ids([str(i) for i in range(n)], posts=[0, 100] + [0] * 10)
    day = 86400.0
    src = [0] * 30 + [1] * 30
    dst = list(range(2, 12)) * 3 + [2] * 30
    etype = ["reply"] * 30 + ["like"] * 30
    ts = [i * day for i in range(30)] + [29 * day] * 30
    eng = Engagements.from_arrays(src, dst, None, 0, ts)
    eng = Engagements(eng.src, eng.dst, eng.weight, np.array([3] * 30 + [0] * 30, dtype=np.uint8), eng.ts)
    out = style(eng, acc, window_days=30)
    assert len(out) == n
    for s in out:
        assert set(s["axes"]) == set(AXES)
        assert all(-1.0 <= v <= 1.0 for v in s["axes"].values())
        assert s["style"] in STYLE_NAMES.values()
    a0, a1 = out[0]["axes"], out[1]["axes"]
    assert a0["listening_participating"] == 1.0 and a1["listening_participating"] == -1.0
    assert a1["sharing_creating"] == 1.0
    assert a0["casual_consistent"] > 0.9 and a1["casual_consistent"] < 0
    assert a0["broad_focused"] < 0 and a1["broad_focused"] == 0.0  # one author only: no evidence
    assert etype  # (types given as codes above)
    assert len(set(STYLE_NAMES.values())) == 16


def test_style_of_a_population_without_engagement() -> None:
    from core.style import style
    from core.types import Accounts, Engagements

    acc = Accounts.from_ids(["a", "b"])
    empty = Engagements.from_arrays([], [], ts=0.0)
    assert len(style(empty, acc, now=0.0)) == acc.n_profiles
