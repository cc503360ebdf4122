"""score_population against the reference, and the rules of the score as properties."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.calibration import apply_calibration
from core.errors import InvalidEngagementsError, InvalidParametersError, UnknownVersionError
from core.scoring import SUBSCORES, score_population
from core.types import Accounts, Engagements
from core.versions import AlgorithmParams, get_version, list_versions, params_digest
from tests import naive
from tests.core.synth import DAY, NOW, population

V1 = get_version("v1")


@st.composite
def populations(draw, max_n=25, max_m=80):
    n = draw(st.integers(2, max_n))
    m = draw(st.integers(0, max_m))
    ints = st.integers(0, n - 1)
    src = draw(st.lists(ints, min_size=m, max_size=m))
    dst = draw(st.lists(ints, min_size=m, max_size=m))
    w = draw(st.lists(st.integers(0, 5), min_size=m, max_size=m))
    et = draw(st.lists(st.integers(0, 7), min_size=m, max_size=m))
    age = draw(st.lists(st.floats(0, 100), min_size=m, max_size=m))
    followers = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n))
    posts = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    created_age = draw(st.lists(st.one_of(st.none(), st.floats(0, 400)), min_size=n, max_size=n))
    created = [np.nan if a is None else NOW - a * DAY for a in created_age]
    eng = Engagements(
        np.array(src, dtype=np.int64),
        np.array(dst, dtype=np.int64),
        np.array(w, dtype=np.float64),
        np.array(et, dtype=np.uint8),
        NOW - np.array(age, dtype=np.float64) * DAY,
    )
    acc = Accounts.from_ids([str(i) for i in range(n)], followers=followers, posts=posts, created=created)
    return eng, acc


@given(populations(), st.sampled_from(["v1", "v2"]))
def test_raw_matches_naive_reference(pop, version):
    eng, acc = pop
    params = dataclasses.replace(get_version(version), tol=1e-13, max_iter=5000)
    res = score_population(eng, acc, params, now=NOW)
    raw, comps, x = naive.score_raw(eng, acc, params, NOW)
    np.testing.assert_allclose(res.ranks, x, atol=1e-9)
    np.testing.assert_allclose(res.components, np.array(comps), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(res.raw_account, raw, rtol=1e-6, atol=1e-7)


@given(populations())
def test_result_shape_and_additivity(pop):
    eng, acc = pop
    res = score_population(eng, acc, now=NOW)
    assert res.score.shape == (acc.n_profiles,)
    assert ((res.score >= 1) & (res.score <= 100)).all()
    total = sum(res.subscores[k] for k in SUBSCORES)
    np.testing.assert_allclose(total, res.score, atol=1e-9)
    assert res.network_scores.shape == (acc.n_profiles, 9)
    assert (res.network_scores[:, 0] == res.score).all()  # every account is on twitter here
    assert (res.network_scores[:, 1:] == 0).all()
    assert set(res.timings) == {"build_s", "solve_s", "calibrate_s"}


def _star(n_extra=30):
    """A small world where account 0..3 are authors and the rest engage."""
    n = 4 + n_extra
    acc = Accounts.from_ids([str(i) for i in range(n)])
    return n, acc


def _score(src, dst, acc, etype="share", weight=None, **kw):
    eng = Engagements.from_arrays(src, dst, weight, etype=etype, ts=NOW)
    return score_population(eng, acc, now=NOW, **kw)


def test_unique_engagers_beat_repeated():
    _, acc = _star()
    # author 0: 10 shares from 10 people; author 1: 10 shares from one person
    src = list(range(4, 14)) + [14] * 10
    dst = [0] * 10 + [1] * 10
    res = _score(src, dst, acc)
    assert res.raw_account[0] > res.raw_account[1]
    assert res.score[0] > res.score[1]


def test_selective_engagers_weigh_more():
    _, acc = _star(40)
    # engager 4 engages only author 0; engager 5 engages author 1 and 20 others
    src = [4, 5, *([5] * 20)]
    dst = [0, 1, *range(10, 30)]
    res = _score(src, dst, acc)
    assert res.raw_account[0] > res.raw_account[1]


def test_reactions_relative_to_volume():
    n = 30
    posts = np.zeros(n)
    posts[0], posts[1] = 10, 1000
    acc = Accounts.from_ids([str(i) for i in range(n)], posts=posts)
    src = list(range(2, 30)) * 2
    dst = [0] * 28 + [1] * 28
    res = _score(src, dst, acc)
    assert res.score[0] > res.score[1]
    # posts only divide amplification: network impact (likes) is untouched
    res2 = _score(src, dst, acc, etype="like")
    assert res2.raw_account[0] == pytest.approx(res2.raw_account[1])


def test_decay_costs_a_typical_person_1_to_4_points_in_14_days():
    eng, acc = population()
    base = score_population(eng, acc, "v1", now=NOW)
    engagers = np.bincount(eng.dst, minlength=acc.n_accounts)
    active = np.flatnonzero(engagers >= 5)
    near50 = active[np.argsort(np.abs(base.score[active] - 50))[:5]]
    assert np.abs(base.score[near50] - 50).max() < 1
    for who in near50:
        drops = {}
        for days in (14, 90):
            ts = eng.ts.copy()
            ts[eng.dst == who] -= days * DAY  # silent for `days`: the freshest inbound activity is gone
            res = score_population(
                dataclasses.replace(eng, ts=ts), acc, "v1", now=NOW, calibration=base.calibration
            )
            drops[days] = base.score[who] - res.score[who]
        assert 1.0 <= drops[14] <= 4.0, drops
        assert drops[90] >= 2.5 * drops[14] and drops[90] >= 5.0, drops


@given(populations(), st.data())
def test_linking_an_active_account_never_lowers_a_score(pop, data):
    eng, acc = pop
    n = acc.n_accounts
    a = data.draw(st.integers(0, n - 1))
    b = data.draw(st.integers(0, n - 1).filter(lambda i: i != a))
    before = score_population(eng, acc, now=NOW)
    keys = list(acc.ids)
    keys[b] = keys[a]
    linked = acc.with_profiles(keys)
    after = score_population(eng, linked, now=NOW, calibration=before.calibration)
    pa = linked.profile[a]
    assert after.raw_profile[pa] >= max(before.raw_profile[a], before.raw_profile[b])
    assert after.score[pa] >= max(before.score[a], before.score[b]) - 1e-12
    # account raws do not depend on how accounts are linked
    np.testing.assert_array_equal(after.raw_account, before.raw_account)


def test_calibration_targets_on_a_population():
    eng, acc = population(n=3000, m=40000, seed=3)
    res = score_population(eng, acc, now=NOW)
    assert abs(res.score.mean() - 40) <= 1
    assert abs(np.percentile(res.score, 95) - 63) <= 1
    order = np.argsort(res.raw_profile, kind="stable")
    assert (np.diff(res.score[order]) >= 0).all()
    # the stored table reproduces the scores
    np.testing.assert_array_equal(apply_calibration(res.raw_profile, res.calibration), res.score)


def test_versions_are_reproducible_bit_for_bit():
    eng, acc = population(n=800, m=8000, seed=5)
    for v in ("v1", "v2"):
        a = score_population(eng, acc, v, now=NOW)
        b = score_population(eng, acc, v, now=NOW)
        assert a.score.tobytes() == b.score.tobytes()
        assert a.raw_account.tobytes() == b.raw_account.tobytes()
        assert a.calibration == b.calibration
        assert a.params_digest == params_digest(get_version(v))
    v1 = score_population(eng, acc, "v1", now=NOW)
    v2 = score_population(eng, acc, "v2", now=NOW)
    assert v1.params_digest != v2.params_digest
    assert not np.array_equal(v1.raw_account, v2.raw_account)


def test_versions_registry():
    assert list_versions()[:2] == ["v1", "v2"]
    assert get_version("v1") == AlgorithmParams(name="v1")
    with pytest.raises(UnknownVersionError, match="v9"):
        get_version("v9")
    with pytest.raises(InvalidParametersError, match="damping"):
        score_population(*population(50, 100), AlgorithmParams(damping=1.5))


def test_warm_start_from_previous_ranks():
    eng, acc = population(n=800, m=8000, seed=5)
    cold = score_population(eng, acc, now=NOW)
    warm = score_population(eng, acc, now=NOW, previous=cold.ranks)
    assert warm.iterations < cold.iterations
    np.testing.assert_allclose(warm.score, cold.score, atol=0.05)


def test_input_validation_errors():
    acc = Accounts.from_ids(["a", "b"])
    with pytest.raises(InvalidEngagementsError, match="account index"):
        score_population(Engagements.from_arrays([0], [2]), acc)
    with pytest.raises(InvalidEngagementsError, match="weight"):
        score_population(Engagements.from_arrays([0], [1], [-1.0]), acc)
    with pytest.raises(InvalidEngagementsError, match="rows"):
        score_population(
            Engagements(np.array([0]), np.array([1, 0]), np.ones(1), np.zeros(1, np.uint8), np.zeros(1)), acc
        )
    with pytest.raises(InvalidEngagementsError, match="dtype"):
        score_population(
            Engagements(
                np.array([0]), np.array([1]), np.ones(1, np.float16), np.zeros(1, np.uint8), np.zeros(1)
            ),
            acc,
        )
    with pytest.raises(InvalidParametersError, match="previous"):
        score_population(Engagements.from_arrays([0], [1]), acc, previous=np.ones(3))
    with pytest.raises(InvalidEngagementsError, match="unknown engagement type"):
        Engagements.from_arrays([0], [1], etype="poke")
