"""Deterministic synthetic populations for the property tests."""

from __future__ import annotations

import numpy as np

from core.types import Accounts, Engagements

NOW = 1_750_000_000.0
DAY = 86400.0


def population(
    n: int = 1500, m: int = 30000, seed: int = 7, window_days: float = 60.0
) -> tuple[Engagements, Accounts]:
    """A power-law engagement population with followers, posts and timestamps over a window."""
    rng = np.random.default_rng(seed)
    pop = rng.pareto(1.2, size=n) + 0.05
    p_dst = pop / pop.sum()
    dst = rng.choice(n, size=m, p=p_dst)
    act = rng.pareto(1.5, size=n) + 0.2
    src = rng.choice(n, size=m, p=act / act.sum())
    keep = src != dst
    src, dst = src[keep], dst[keep]
    m = len(src)
    etype = rng.choice(8, size=m, p=[0.45, 0.15, 0.1, 0.1, 0.02, 0.05, 0.05, 0.08]).astype(np.uint8)
    ts = NOW - rng.uniform(0, window_days, size=m) * DAY
    weight = rng.integers(1, 4, size=m).astype(np.float64)
    followers = np.floor(pop * rng.uniform(20, 200, size=n))
    posts = rng.integers(1, 200, size=n).astype(np.float64)
    created = NOW - rng.uniform(200, 3000, size=n) * DAY
    acc = Accounts.from_ids(
        [f"twitter:{i}" for i in range(n)], followers=followers, posts=posts, created=created
    )
    eng = Engagements(src.astype(np.int64), dst.astype(np.int64), weight, etype, ts)
    return eng, acc
