"""The evaluation's populations: generated ones are realistic, reproducible, and extend() only appends."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.types import NETWORKS
from renown.evaluate.population import distinct_engagers, extend, generate_population, relink

FAST = settings(max_examples=12, deadline=None, derandomize=True)


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(60, 400))
def test_generated_population_is_valid_and_reproducible(seed: int, n: int) -> None:
    a = generate_population(seed, n_accounts=n, days=90.0, engagements_per_account=10.0)
    b = generate_population(seed, n_accounts=n, days=90.0, engagements_per_account=10.0)
    a.accounts.validate()
    a.engagements.validate(a.n_accounts)
    assert a.n_accounts == n
    for col in ("src", "dst", "weight", "etype", "ts"):
        assert np.array_equal(getattr(a.engagements, col), getattr(b.engagements, col))
    assert np.array_equal(a.accounts.created, b.accounts.created, equal_nan=True)
    assert a.accounts.profile_ids == b.accounts.profile_ids
    ts = a.engagements.ts
    assert np.isfinite(ts).all() and ts.max() <= a.now and ts.min() >= a.now - 90 * 86400.0
    # a person never engages their own accounts
    prof = a.accounts.profile
    assert not (prof[a.engagements.src] == prof[a.engagements.dst]).any()


def test_generated_population_has_the_realistic_traits() -> None:
    pop = generate_population(3)
    acc = pop.accounts
    assert pop.n_accounts == 3000 and pop.n_profiles < 3000  # some people have several accounts
    assert len(set(acc.network.tolist())) >= 5
    twitter = acc.network == NETWORKS.index("twitter")
    facebook = acc.network == NETWORKS.index("facebook")
    assert np.isfinite(acc.created[twitter]).all() and np.isnan(acc.created[facebook]).all()
    engagers = distinct_engagers(pop)
    assert (engagers == 0).any()  # idle accounts exist
    assert engagers.max() > 20 * max(1.0, float(np.median(engagers)))  # heavy tail
    span = (pop.now - pop.engagements.ts.min()) / 86400.0
    assert 250 <= span <= 270


@FAST
@given(k=st.integers(1, 30), link=st.booleans(), seed=st.integers(0, 50))
def test_extend_appends_exactly_and_keeps_every_index(k: int, link: bool, seed: int) -> None:
    pop = generate_population(seed, n_accounts=80, days=30.0, engagements_per_account=5.0)
    key = pop.accounts.profile_ids[0]
    ids = [f"eval:x{i}" for i in range(k)]
    out = extend(pop, ids, followers=7.0, created=math.nan, profiles=[key] * k if link else None)
    out.accounts.validate()
    assert out.n_accounts == pop.n_accounts + k
    assert out.accounts.ids[: pop.n_accounts] == pop.accounts.ids
    assert out.profile_keys()[: pop.n_accounts] == pop.profile_keys()
    assert out.n_profiles == pop.n_profiles + (0 if link else k)
    assert (out.accounts.followers[pop.n_accounts :] == 7.0).all()
    assert len(out.engagements) == len(pop.engagements)
    # relinking every account to itself separates profiles and keeps the engagements
    alone = relink(out, out.accounts.ids)
    assert alone.n_profiles == out.n_accounts and alone.engagements is out.engagements
