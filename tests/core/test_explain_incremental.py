"""Explanations add up; incremental updates stay close to a full solve; anti-gaming bounds."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from core.errors import InvalidParametersError
from core.explain import explain
from core.incremental import make_state, update_scores
from core.scoring import score_population
from core.types import Accounts, Engagements
from tests.core.synth import DAY, NOW, population


@pytest.fixture(scope="module")
def scored():
    eng, acc = population(n=600, m=9000, seed=11)
    keys = list(acc.ids)
    keys[1] = keys[0]  # a person with two accounts
    acc = acc.with_profiles(keys)
    net = acc.network.copy()
    net[1] = 5  # mastodon
    acc = dataclasses.replace(acc, network=net)
    return eng, acc, score_population(eng, acc, now=NOW)


def test_explanations_add_up_to_the_score(scored):
    eng, acc, res = scored
    for p in [0, 3, int(np.argmax(res.score)), int(np.argmin(res.score))]:
        ex = explain(res, eng, acc, p, top_n=5)
        json.dumps(ex)  # JSON-serialisable
        s = ex["score"]
        assert abs(sum(ex["signals"].values()) - s) < 0.01
        assert abs(sum(n["points"] for n in ex["networks"]) - s) < 0.01
        engagers = sum(e["points"] for e in ex["top_engagers"]) + ex["other_engagers_points"]
        assert abs(engagers + ex["reach_points"] - s) < 0.01
        assert len(ex["top_engagers"]) <= 5
        assert ex["decay"]["points_lost_estimate"] >= 0
    ex0 = explain(res, eng, acc, 0)
    assert {n["network"] for n in ex0["networks"]} == {"twitter", "mastodon"}
    pts = [e["points"] for e in ex0["top_engagers"]]
    assert pts == sorted(pts, reverse=True)


def test_explain_validates(scored):
    eng, acc, res = scored
    with pytest.raises(InvalidParametersError, match="profile_index"):
        explain(res, eng, acc, acc.n_profiles)


def test_incremental_update_matches_full_solve():
    eng, acc = population(n=1200, m=15000, seed=4)
    params = dataclasses.replace(
        __import__("core.versions").versions.get_version("v1"), tol=1e-12, max_iter=1000
    )
    full0 = score_population(eng, acc, params, now=NOW)
    state = make_state(full0)
    rng = np.random.default_rng(0)
    k = 25
    new = Engagements.from_arrays(
        rng.integers(0, acc.n_accounts, k),
        rng.integers(0, acc.n_accounts, k),
        rng.integers(1, 3, k),
        "share",
        NOW,
    )
    x, touched, err = update_scores(state, new)
    full1 = score_population(eng.concat(new), acc, params, now=NOW)
    diff = np.abs(x - full1.ranks).sum()
    assert diff <= max(err, 1e-9) + 1e-7
    assert diff < 1e-6
    assert 0 < len(touched) < acc.n_accounts
    # a second batch on top of the first
    new2 = Engagements.from_arrays([5, 6, 7], [8, 8, 8], None, "reply", NOW - 2 * DAY)
    x2, _, err2 = update_scores(state, new2)
    full2 = score_population(eng.concat(new).concat(new2), acc, params, now=NOW)
    assert np.abs(x2 - full2.ranks).sum() < 1e-6 + err2


def _world(n_base=400, seed=2):
    eng, acc = population(n=n_base, m=6000, seed=seed)
    return eng, acc


def test_farm_of_fresh_accounts_gains_little():
    eng, acc = _world()
    base = score_population(eng, acc, now=NOW)
    target = int(np.argsort(base.score)[len(base.score) // 2])  # a median account
    farm = 1000
    n0 = acc.n_accounts
    ids = list(acc.ids) + [f"twitter:farm{i}" for i in range(farm)]
    acc2 = Accounts.from_ids(
        ids,
        followers=np.concatenate([acc.followers, np.zeros(farm)]),
        posts=np.concatenate([acc.posts, np.zeros(farm)]),
        created=np.concatenate([acc.created, np.full(farm, NOW - 2 * DAY)]),
    )
    farm_eng = Engagements.from_arrays(
        np.arange(n0, n0 + farm), np.full(farm, target), np.full(farm, 50.0), "share", NOW
    )
    attacked = score_population(eng.concat(farm_eng), acc2, now=NOW, calibration=base.calibration)
    assert attacked.graph is not None and attacked.graph.fresh[n0:].all()
    # bound (docs/algorithm.md): the farm passes at most d * fresh_out * (its teleport mass) of rank
    p = attacked.params
    farm_tele = attacked.graph.teleport[n0:].sum()
    bound = p.damping * p.fresh_out_factor * farm_tele * attacked.graph.unit
    gained = attacked.raw_account[target] - base.raw_account[target]
    assert gained <= bound + 1e-9
    assert attacked.score[target] - base.score[target] < 2.0


def test_ring_gains_little():
    eng, acc = _world()
    base = score_population(eng, acc, now=NOW)
    n0, ring = acc.n_accounts, 20
    ids = list(acc.ids) + [f"twitter:ring{i}" for i in range(ring)]
    acc2 = Accounts.from_ids(
        ids,
        followers=np.concatenate([acc.followers, np.zeros(ring)]),
        posts=np.concatenate([acc.posts, np.zeros(ring)]),
        created=np.concatenate([acc.created, np.full(ring, NOW - 5 * DAY)]),
    )
    members = np.arange(n0, n0 + ring)
    src = np.repeat(members, ring - 1)
    dst = np.array([j for i in members for j in members if j != i])
    ring_eng = Engagements.from_arrays(src, dst, np.full(len(src), 100.0), "share", NOW)
    res = score_population(eng.concat(ring_eng), acc2, now=NOW, calibration=base.calibration)
    p = res.params
    # closed set S: rank mass <= T_S / (1 - d * c), c = fresh_out_factor
    tele = res.graph.teleport[members].sum()
    assert res.ranks[members].sum() <= tele / (1 - p.damping * p.fresh_out_factor) + 1e-12
    assert res.score[members].max() < 20
    # the same ring of established accounts is bounded by T_S / (1 - d): it only recirculates teleport
    acc3 = dataclasses.replace(acc2, created=np.concatenate([acc.created, np.full(ring, NOW - 900 * DAY)]))
    res3 = score_population(eng.concat(ring_eng), acc3, now=NOW)
    tele3 = res3.graph.teleport[members].sum()
    assert res3.ranks[members].sum() <= tele3 / (1 - p.damping) + 1e-12
