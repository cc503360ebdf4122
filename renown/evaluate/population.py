"""Populations the evaluation scores: generated ones (own seeds) and the Higgs Twitter networks.

A :class:`Population` is the engagements, the accounts (linked into profiles) and the reference time
``now`` of one scoring run. Attacks never mutate a population: :func:`extend` returns a new one with
accounts and engagement rows appended after the existing ones, so every existing account keeps its
index and every existing profile keeps its key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.types import NETWORKS, Accounts, Engagements

__all__ = [
    "DAY",
    "NOW",
    "Population",
    "datasets_dir",
    "distinct_engagers",
    "extend",
    "generate_population",
    "load_higgs",
    "relink",
]

DAY = 86400.0
#: Reference time of the generated populations (2026-12-01 00:00 UTC).
NOW = 1_796_083_200.0

#: Networks of the generated population, their share of accounts, and whether they report creation
#: times (the others leave ``created`` unknown, NaN).
GEN_NETWORKS: tuple[tuple[str, float, bool], ...] = (
    ("twitter", 0.38, True),
    ("instagram", 0.18, False),
    ("facebook", 0.14, False),
    ("mastodon", 0.10, True),
    ("youtube", 0.08, True),
    ("linkedin", 0.07, False),
    ("bluesky", 0.05, True),
)


@dataclass(frozen=True)
class Population:
    """One scoring input: engagements, accounts (with profiles) and ``now``."""

    name: str
    engagements: Engagements
    accounts: Accounts
    now: float

    @property
    def n_accounts(self) -> int:
        return self.accounts.n_accounts

    @property
    def n_profiles(self) -> int:
        return self.accounts.n_profiles

    def profile_keys(self) -> list[str]:
        """Profile key of every account."""
        ids = self.accounts.profile_ids
        return [ids[p] for p in self.accounts.profile.tolist()]

    def profile_index(self, key: str) -> int:
        return self.accounts.profile_ids.index(key)

    def with_engagements(self, engagements: Engagements, name: str | None = None) -> Population:
        return Population(name or self.name, engagements, self.accounts, self.now)


def datasets_dir() -> Path:
    """``RENOWN_DATASETS_DIR``, else ``../shared/datasets`` relative to the repository root."""
    env = os.environ.get("RENOWN_DATASETS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def load_higgs(directory: str | os.PathLike[str] | None = None) -> Population:
    """The Higgs reply and mention networks, read as ``renown score`` reads them (type ``mention``).

    The files carry no times: every row has ``ts = NaN`` (treated as fresh) and ``now = 0``.
    """
    from core.io import read_edge_files

    d = Path(directory) if directory is not None else datasets_dir() / "higgs-twitter"
    paths = [d / "reply_network.edgelist", d / "mention_network.edgelist"]
    eng, acc = read_edge_files(paths, default_type="mention")
    return Population("higgs", eng, acc, 0.0)


def extend(
    pop: Population,
    ids: Sequence[str],
    *,
    network: str | Sequence[int] | np.ndarray = "twitter",
    followers: float | Sequence[float] | np.ndarray = 0.0,
    posts: float | Sequence[float] | np.ndarray = 0.0,
    created: float | Sequence[float] | np.ndarray = np.nan,
    profiles: Sequence[str] | None = None,
    engagements: Engagements | None = None,
    name: str | None = None,
) -> Population:
    """A new population with ``ids`` appended as accounts (and ``engagements`` appended as rows).

    ``profiles`` gives the profile key of each new account (default: its own id, a new profile); an
    existing key links the account to that person. Engagement rows index the combined accounts
    (the new ones start at ``pop.n_accounts``).
    """
    acc = pop.accounts
    k = len(ids)

    def col(v: float | Sequence[float] | np.ndarray) -> np.ndarray:
        a = np.asarray(v, dtype=np.float64)
        return np.full(k, float(a)) if a.ndim == 0 else a.astype(np.float64).ravel()

    if isinstance(network, str):
        net = np.full(k, NETWORKS.index(network), dtype=np.uint8)
    else:
        net = np.asarray(network, dtype=np.uint8).ravel()
    all_ids = [*acc.ids, *[str(i) for i in ids]]
    new = Accounts.from_ids(
        all_ids,
        network=np.concatenate([acc.network, net]),
        followers=np.concatenate([acc.followers, col(followers)]),
        posts=np.concatenate([acc.posts, col(posts)]),
        created=np.concatenate([acc.created, col(created)]),
    ).with_profiles([*pop.profile_keys(), *(list(profiles) if profiles is not None else all_ids[-k:])])
    eng = pop.engagements if engagements is None else pop.engagements.concat(engagements)
    return Population(name or pop.name, eng, new, pop.now)


def relink(pop: Population, profile_of: Sequence[str]) -> Population:
    """The same accounts and engagements with accounts linked by ``profile_of`` (a key per account)."""
    return Population(pop.name, pop.engagements, pop.accounts.with_profiles(profile_of), pop.now)


def distinct_engagers(pop: Population) -> np.ndarray:
    """Distinct engager accounts per profile (engagement from the profile's own accounts excluded)."""
    e = pop.engagements
    prof = pop.accounts.profile
    keep = (e.weight > 0) & (prof[e.src] != prof[e.dst])
    pairs = np.unique(np.stack([e.src[keep], prof[e.dst[keep]]], axis=1), axis=0)
    return (
        np.bincount(pairs[:, 1], minlength=pop.n_profiles)
        if len(pairs)
        else np.zeros(pop.n_profiles, dtype=np.int64)
    )


def generate_population(
    seed: int = 1, n_accounts: int = 3000, days: float = 270.0, engagements_per_account: float = 25.0
) -> Population:
    """A realistic heavy-tailed multi-network population.

    * about 80% of people have one account, the rest two or three on different networks (linked);
    * popularity (engagement received) and activity (engagement given) are power laws, a quarter of
      the accounts never receive any engagement and a fifth never engage;
    * engagers return to a few favourite authors (repeated pairs) and otherwise pick by popularity,
      mostly within their own network;
    * followers follow popularity with log-normal noise; posts in the window are log-normal;
    * account creation times are known on twitter, mastodon, youtube and bluesky (30 days to 15
      years old) and unknown (NaN) on instagram, facebook and linkedin;
    * engagement times span ``days`` before :data:`NOW`; each account is active over its own
      sub-window (some stop early, some start late).
    """
    rng = np.random.default_rng(seed)
    n = int(n_accounts)
    # profiles: people with 1-3 accounts
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.choice([1, 2, 3], p=[0.8, 0.15, 0.05])))
    sizes[-1] -= sum(sizes) - n
    names = [x[0] for x in GEN_NETWORKS]
    shares = np.array([x[1] for x in GEN_NETWORKS])
    known_created = np.array([x[2] for x in GEN_NETWORKS])
    net_idx = np.empty(n, dtype=np.int64)
    profile_keys: list[str] = []
    person_of = np.empty(n, dtype=np.int64)
    pos = 0
    for person, size in enumerate(sizes):
        nets = rng.choice(len(names), size=size, replace=False, p=shares)
        for j in range(size):
            net_idx[pos] = nets[j]
            person_of[pos] = person
            profile_keys.append(f"p{person}")
            pos += 1
    # heavy tails, shared by a person's accounts (a popular person is popular everywhere)
    person_pop = rng.pareto(1.1, size=len(sizes)) + 0.02
    person_act = rng.pareto(1.4, size=len(sizes)) + 0.05
    popularity = person_pop[person_of] * rng.lognormal(0.0, 0.5, size=n)
    popularity[rng.random(n) < 0.25] = 0.0
    activity = person_act[person_of] * rng.lognormal(0.0, 0.5, size=n)
    activity[rng.random(n) < 0.2] = 0.0
    followers = np.floor(popularity * rng.lognormal(4.0, 1.0, size=n) + rng.integers(0, 40, size=n))
    posts = np.floor(rng.lognormal(3.0, 1.2, size=n))
    age_days = np.exp(rng.uniform(np.log(30.0), np.log(5500.0), size=n))
    created = np.where(known_created[net_idx], NOW - age_days * DAY, np.nan)
    # activity windows inside [NOW - days, NOW]
    start = rng.uniform(0, days, size=n) * (rng.random(n) < 0.15)
    stop = days - rng.uniform(0, days, size=n) * (rng.random(n) < 0.15)
    stop = np.maximum(stop, start + 7.0)

    m = int(n * engagements_per_account)
    src = rng.choice(n, size=m, p=activity / activity.sum())
    favourites = np.empty((n, 4), dtype=np.int64)
    p_pop = popularity / popularity.sum()
    for k in range(4):
        favourites[:, k] = rng.choice(n, size=n, p=p_pop)
    dst = rng.choice(n, size=m, p=p_pop)
    fav = rng.random(m) < 0.45
    dst[fav] = favourites[src[fav], rng.integers(0, 4, size=int(fav.sum()))]
    # mostly within the engager's network: redirect cross-network rows to a same-network author
    cross = (net_idx[src] != net_idx[dst]) & (rng.random(m) < 0.85)
    for k in range(len(names)):
        sel = np.flatnonzero(cross & (net_idx[src] == k))
        cand = np.flatnonzero((net_idx == k) & (popularity > 0))
        if len(sel) and len(cand):
            pc = popularity[cand] / popularity[cand].sum()
            dst[sel] = cand[rng.choice(len(cand), size=len(sel), p=pc)]
    keep = person_of[src] != person_of[dst]
    src, dst = src[keep], dst[keep]
    m = len(src)
    lo = np.maximum(start[src], start[dst])
    hi = np.maximum(np.minimum(stop[src], stop[dst]), lo + 1.0)
    t_days = lo + rng.random(m) * (hi - lo)
    ts = NOW - (days - np.minimum(t_days, days)) * DAY
    etype = rng.choice(8, size=m, p=[0.5, 0.12, 0.08, 0.12, 0.02, 0.04, 0.04, 0.08]).astype(np.uint8)
    eng = Engagements(src.astype(np.int64), dst.astype(np.int64), np.ones(m), etype, ts)
    ids = [f"{names[net_idx[i]]}:g{i}" for i in range(n)]
    acc = Accounts.from_ids(
        ids,
        network=np.array([NETWORKS.index(names[k]) for k in net_idx], dtype=np.uint8),
        followers=followers,
        posts=posts,
        created=created,
    ).with_profiles(profile_keys)
    return Population(f"generated(seed={seed})", eng, acc, NOW)
