"""How a version ranks the Higgs accounts against plain baselines: PageRank, in-degree, unique engagers.

Kendall tau-b (ties handled) and top-100 overlap of the profile scores (ordered by raw influence, which
the score follows monotonically) against each baseline, computed per account on single-account
populations such as Higgs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.scoring import ScoreResult
from renown.evaluate.population import Population

__all__ = ["baselines", "compare_rankings", "kendall_tau", "pagerank", "top_overlap"]


def pagerank(pop: Population, damping: float = 0.85, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    """Plain PageRank over distinct (engager -> author) pairs, uniform teleport, dangling mass spread."""
    e = pop.engagements
    n = pop.n_accounts
    keep = e.src != e.dst
    pairs = np.unique(e.src[keep] * n + e.dst[keep])
    src, dst = pairs // n, pairs % n
    out = np.bincount(src, minlength=n).astype(np.float64)
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        share = np.zeros(n)
        np.divide(x, out, out=share, where=out > 0)
        flow = np.bincount(dst, weights=share[src], minlength=n)
        dangling = float(x[out == 0].sum())
        new = damping * (flow + dangling / n) + (1.0 - damping) / n
        if float(np.abs(new - x).sum()) < tol:
            x = new
            break
        x = new
    return x


def baselines(pop: Population) -> dict[str, np.ndarray]:
    """Per-account PageRank, in-degree (engagement rows received, by weight) and unique engagers."""
    e = pop.engagements
    n = pop.n_accounts
    keep = e.src != e.dst
    indeg = np.bincount(e.dst[keep], weights=e.weight[keep], minlength=n)
    pairs = np.unique(e.src[keep] * n + e.dst[keep])
    unique = np.bincount(pairs % n, minlength=n).astype(np.float64)
    return {"pagerank": pagerank(pop), "in-degree": indeg, "unique engagers": unique}


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall tau-b (scipy), NaN if it cannot be computed."""
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


def top_overlap(a: np.ndarray, b: np.ndarray, k: int = 100) -> float:
    """Share of the top ``k`` by ``a`` that is also in the top ``k`` by ``b`` (ties broken by index)."""
    n = len(a)
    idx = np.arange(n)
    ta = set(np.lexsort((idx, -a))[:k].tolist())
    tb = set(np.lexsort((idx, -b))[:k].tolist())
    return len(ta & tb) / float(min(k, n))


def compare_rankings(
    res: ScoreResult, pop: Population, base: dict[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """Kendall tau and top-100 overlap of the account scores against every baseline."""
    base = base if base is not None else baselines(pop)
    raw = res.raw_profile[pop.accounts.profile]
    return {
        name: {"kendall_tau": kendall_tau(raw, ref), "top100_overlap": top_overlap(raw, ref)}
        for name, ref in base.items()
    }
