"""Mechanics of the attacks: what they add, which twin they are measured against, determinism, and
that the harness reports v1's known failures (v1 fails the score-integrity bounds by design)."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.scoring import score_population
from renown.evaluate import cases
from renown.evaluate.cases import FARM_VARIANTS, Bound, Context, Sizes, build_farm, run_cases
from renown.evaluate.population import DAY, Population, generate_population

FAST = settings(max_examples=10, deadline=None, derandomize=True)

TINY = Sizes(
    accounts=300,
    days=90.0,
    farms=(60,),
    ring=6,
    ring_days=5,
    pod=6,
    swaps=2,
    linked_idle=20,
    drops=1,
    decay_people=2,
    explain_profiles=2,
)


@functools.lru_cache(maxsize=4)
def tiny(seed: int = 5) -> Population:
    return generate_population(seed, n_accounts=TINY.accounts, days=TINY.days, engagements_per_account=15.0)


def test_bounds() -> None:
    assert Bound("< 63", hi=63, strict=True).holds(62.9) and not Bound("< 63", hi=63, strict=True).holds(63)
    assert Bound("<= 3", hi=3).holds(3.0) and not Bound("<= 3", hi=3).holds(3.01)
    assert Bound("40 +- 1", 39, 41).holds(40.5) and not Bound("40 +- 1", 39, 41).holds(38.9)
    assert not Bound("<= 3", hi=3).holds(math.nan)


@FAST
@given(size=st.integers(2, 80), variant=st.sampled_from(sorted(FARM_VARIANTS)), peers=st.integers(0, 6))
def test_farm_adds_exactly_the_accounts_and_rows_it_claims(size: int, variant: str, peers: int) -> None:
    pop = tiny()
    target = 17
    out = build_farm(pop, target, size, variant, np.random.default_rng(0), peers=peers)
    out.accounts.validate()
    out.engagements.validate(out.n_accounts)
    n, m = pop.n_accounts, len(pop.engagements)
    v = FARM_VARIANTS[variant]
    assert out.n_accounts == n + size and out.n_profiles == pop.n_profiles + size
    expected = size * (4 + (peers if size > 1 else 0)) + (size if v["liked_back"] else 0)
    assert len(out.engagements) == m + expected
    new = out.engagements.take(np.arange(m, m + expected))
    bots = np.arange(n, n + size)
    assert np.isin(new.src, bots).sum() == size * (4 + (peers if size > 1 else 0))
    assert ((new.src == target) | np.isin(new.src, bots)).all()
    assert (np.isin(new.dst, bots) | (new.dst == target)).all()
    assert not (new.src == new.dst).any()
    assert (np.bincount(new.src[new.dst == target] - n, minlength=size) == 4).all()
    assert (new.src == target).sum() == (size if v["liked_back"] else 0)
    created = out.accounts.created[bots]
    if v["age_days"] is None:
        assert np.isnan(created).all()
    else:
        assert np.allclose(pop.now - created, v["age_days"] * DAY)
    assert (out.accounts.followers[bots] == v["followers"]).all()


@FAST
@given(k=st.integers(2, 12), days=st.integers(1, 12))
def test_daily_block_is_every_ordered_pair_every_day(k: int, days: int) -> None:
    members = np.arange(100, 100 + k)
    rows = cases._daily(members, days, 1e9)
    assert len(rows) == k * (k - 1) * days
    assert np.isin(rows.src, members).all() and np.isin(rows.dst, members).all()
    assert not (rows.src == rows.dst).any()
    pairs, counts = np.unique(rows.src * 1000 + rows.dst, return_counts=True)
    assert len(pairs) == k * (k - 1) and (counts == days).all()
    assert rows.ts.max() < 1e9 and rows.ts.min() > 1e9 - days * DAY


def test_farm_gain_is_measured_against_the_same_population_without_the_farm() -> None:
    pop = tiny()
    ctx = Context(pop, "v1", seed=3)
    got = {c.key: c for c in cases.farms(ctx, sizes=(40,))}
    target = int(ctx.pick_near(40.0)[0])
    for j, variant in enumerate(FARM_VARIANTS):
        attacked = build_farm(pop, target, 40, variant, ctx.rng(200 + 10 * 40 + j))
        after = score_population(attacked.engagements, attacked.accounts, "v1", now=pop.now)
        before = score_population(pop.engagements, pop.accounts, "v1", now=pop.now)
        gain = after.score[attacked.accounts.profile[target]] - before.score[pop.accounts.profile[target]]
        assert got[f"sybil.farm40.{variant}.target"].value == pytest.approx(gain, abs=1e-12)
        # bystanders: every base profile except the target, matched by key
        moves = after.score[: pop.n_profiles] - before.score
        moves = np.delete(moves, pop.accounts.profile[target])
        assert got[f"sybil.farm40.{variant}.bystander"].value == pytest.approx(np.median(np.abs(moves)))


def test_ring_is_measured_against_an_identical_idle_twin() -> None:
    pop = tiny()
    ctx = Context(pop, "v1")
    (case,) = cases.ring(ctx, size=5, days=3)
    n = pop.n_accounts
    # rebuild what ring() scores: 5 members + twin, same attributes, the twin without engagement
    fol = float(np.median(pop.accounts.followers))
    assert case.detail["ring_mean"] - case.detail["twin"] == pytest.approx(case.value)
    attacked = cases.extend(
        pop,
        [f"eval:ring{i}" for i in range(5)] + ["eval:twin"],
        followers=fol,
        posts=3.0,
        created=pop.now - 400 * DAY,
        engagements=cases._daily(np.arange(n, n + 5), 3, pop.now),
    )
    res = score_population(attacked.engagements, attacked.accounts, "v1", now=pop.now)
    assert res.score[attacked.accounts.profile[n + 5]] == pytest.approx(case.detail["twin"])
    assert not np.isin(n + 5, attacked.engagements.src) and not np.isin(n + 5, attacked.engagements.dst)


@settings(max_examples=3, deadline=None, derandomize=True)
@given(seed=st.integers(0, 1000))
def test_cases_are_deterministic_for_a_seed(seed: int) -> None:
    pop = tiny()
    only = ("swap", "pod", "linking")
    a = run_cases(Context(pop, "v1", seed), TINY, only)
    b = run_cases(Context(pop, "v1", seed), TINY, only)
    assert [c.to_dict() for c in a] == [c.to_dict() for c in b]
    json.dumps([c.to_dict() for c in a], allow_nan=False)


def test_v1_known_failures_and_still_true_properties_are_reported() -> None:
    """v1 fails the issue-12 bounds: the harness must say so (and say which properties still hold)."""
    res = {c.key: c for c in run_cases(Context(tiny(), "v1", 1), TINY)}
    known_failures = [
        "sybil.farm60.unknown.target",
        "sybil.farm60.aged31.target",
        "collusion.ring",
        "collusion.pod",
        "linking.idle",
        "linking.own_second",
        "calibration.no_engagement",
        "explain.top_engager",
    ]
    assert [k for k in known_failures if res[k].holds] == []
    holding = [
        "still.unique_engagers",
        "still.selective",
        "still.selective_crowd",
        "still.volume",
        "still.networks_add_up",
        "still.determinism",
        "calibration.mean",
        "calibration.p95",
    ]
    assert [k for k in holding if not res[k].holds] == []
    assert res["sybil.farm60.unknown.target"].value > 10  # a farm with unknown creation times buys points


def test_version_is_only_a_parameter() -> None:
    pop = tiny()
    v1 = {c.key: c.value for c in run_cases(Context(pop, "v1"), TINY, ("hub", "volume"))}
    v2 = {c.key: c.value for c in run_cases(Context(pop, "v2"), TINY, ("hub", "volume"))}
    assert v1.keys() == v2.keys() and v1 != v2


def test_explanation_case_measures_the_counterfactual_under_its_own_table() -> None:
    """The top profile's counterfactual is measured under the base table (as it claims); a refitted
    table keeps the top profile at the top and its score in place, so that drop is only reported."""
    pop = generate_population(7, n_accounts=600, days=120.0)  # where a refitted table hid 7.8 points
    ctx = Context(pop, "v3", 7)
    (case,) = cases.explanation_faithfulness(ctx, profiles=3)
    rows = case.detail["profiles"]
    top = max(rows, key=lambda r: r["score"])
    assert top["score"] == pytest.approx(float(ctx.base.score.max()))
    assert top["claimed"] > 1.0 and abs(top["refit"]) < 0.01  # the refit hides the engager's weight
    assert case.holds and case.value == pytest.approx(max(abs(r["claimed"] - r["actual"]) for r in rows))
