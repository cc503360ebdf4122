"""The shift report: what a new version does to people before anyone sees it.

Each partition contributes its share (``partition_part``): a histogram of score changes, how many go
up or down, the movers of its profiles, its top-k candidates under both versions and a hash-sampled
set of (old, new) pairs. ``merge_parts`` adds them up: counts, mean and spread of the change, the
histogram (also drawn as a PNG), the biggest movers with their explanations, Kendall's tau-b on the
sample and the top-k overlap between the old and new rankings.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np

DELTA_EDGES = [float(x) for x in np.arange(-50.0, 50.0 + 1e-9, 2.5)]
SCORE_EDGES = [float(x) for x in np.arange(0.0, 100.0 + 1e-9, 5.0)]
MOVERS = 10
TOP_K = (10, 100, 1000)
SAMPLE_TARGET = 4000
SAME = 0.005  # |change| below this counts as unchanged


def _hist(values: np.ndarray, edges: list[float]) -> list[int]:
    clipped = np.clip(values, edges[0], edges[-1] - 1e-9)
    counts, _ = np.histogram(clipped, bins=edges)
    return [int(c) for c in counts]


def in_sample(profile_id: str, rate: float) -> bool:
    """Deterministic sample membership (the same profiles whatever the partitioning)."""
    return (zlib.crc32(profile_id.encode()) % 1_000_000) < rate * 1_000_000


def partition_part(
    profile_ids: list[str],
    names: list[str],
    new: np.ndarray,
    old: np.ndarray,
    explanations: dict[str, dict[str, Any]],
    sample_rate: float,
) -> dict[str, Any]:
    """One partition's share of the report; ``old`` is NaN where a profile had no active score."""
    has_old = np.isfinite(old)
    delta = np.where(has_old, new - np.nan_to_num(old), 0.0)
    d = delta[has_old]
    order = np.argsort(-delta, kind="stable")
    movers: list[dict[str, Any]] = []
    picks = [i for i in order[:MOVERS] if has_old[i] and delta[i] > SAME]
    picks += [i for i in order[::-1][:MOVERS] if has_old[i] and delta[i] < -SAME]
    for i in picks:
        pid = profile_ids[int(i)]
        movers.append(
            {
                "profile_id": pid,
                "name": names[int(i)],
                "old": round(float(old[i]), 2),
                "new": round(float(new[i]), 2),
                "change": round(float(delta[i]), 2),
                "explanation": summarize(explanations.get(pid)),
            }
        )
    k = max(TOP_K)
    top_new = np.argsort(-new, kind="stable")[:k]
    old_filled = np.where(has_old, old, -np.inf)
    top_old = np.argsort(-old_filled, kind="stable")[: min(k, int(has_old.sum()))]
    sample = [
        [round(float(old[i]), 4), round(float(new[i]), 4)]
        for i in np.flatnonzero(has_old)
        if in_sample(profile_ids[int(i)], sample_rate)
    ]
    return {
        "profiles": len(profile_ids),
        "compared": int(has_old.sum()),
        "new_profiles": int((~has_old).sum()),
        "up": int((d > SAME).sum()),
        "down": int((d < -SAME).sum()),
        "same": int((np.abs(d) <= SAME).sum()),
        "sum_change": float(d.sum()),
        "sum_abs_change": float(np.abs(d).sum()),
        "sum_sq_change": float((d * d).sum()),
        "moved_5": int((np.abs(d) >= 5).sum()),
        "moved_10": int((np.abs(d) >= 10).sum()),
        "delta_hist": _hist(d, DELTA_EDGES),
        "new_hist": _hist(new, SCORE_EDGES),
        "old_hist": _hist(old[has_old], SCORE_EDGES),
        "movers": movers,
        "top_new": [[profile_ids[int(i)], float(new[i])] for i in top_new],
        "top_old": [[profile_ids[int(i)], float(old[i])] for i in top_old],
        "sample": sample,
    }


def summarize(explanation: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of an explanation a mover's line shows: signals, networks, top engagers."""
    if not explanation:
        return None
    return {
        "signals": {k: round(float(v), 2) for k, v in explanation.get("signals", {}).items()},
        "networks": [
            {"network": n["network"], "points": round(float(n["points"]), 2)}
            for n in explanation.get("networks", [])
        ],
        "top_engagers": [
            {"account": e["account"], "points": round(float(e["points"]), 2)}
            for e in explanation.get("top_engagers", [])[:3]
        ],
        "reach_points": round(float(explanation.get("reach_points", 0.0)), 2),
    }


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float | None:
    """Kendall's tau-b (ties corrected), O(n^2) in blocks: for samples of a few thousand pairs.

    Examples
    --------
    >>> kendall_tau_b(np.array([1, 2, 3, 4.0]), np.array([1, 3, 2, 4.0]))
    0.6666666666666666
    """
    n = len(x)
    if n < 2:
        return None
    concordant = 0.0
    tx = ty = 0.0
    total = n * (n - 1) / 2
    for start in range(0, n, 512):
        sx = np.sign(x[start : start + 512, None] - x[None, :])
        sy = np.sign(y[start : start + 512, None] - y[None, :])
        rows = np.arange(start, min(start + 512, n))[:, None]
        upper = np.arange(n)[None, :] > rows
        concordant += float((sx * sy)[upper].sum())
        tx += float(((sx == 0) & upper).sum())
        ty += float(((sy == 0) & upper).sum())
    denom = math.sqrt((total - tx) * (total - ty))
    return concordant / denom if denom > 0 else None


def merge_parts(parts: list[dict[str, Any]], version: str, against: str | None) -> dict[str, Any]:
    """The shift report of a run from its partitions' shares."""
    total = {
        key: sum(p[key] for p in parts)
        for key in ("profiles", "compared", "new_profiles", "up", "down", "same", "moved_5", "moved_10")
    }
    compared = max(total["compared"], 1)
    mean = sum(p["sum_change"] for p in parts) / compared
    mean_abs = sum(p["sum_abs_change"] for p in parts) / compared
    var = max(0.0, sum(p["sum_sq_change"] for p in parts) / compared - mean * mean)

    def add(key: str) -> list[int]:
        return [int(sum(col)) for col in zip(*(p[key] for p in parts), strict=True)]

    movers = [m for p in parts for m in p["movers"]]
    up = sorted((m for m in movers if m["change"] > 0), key=lambda m: -m["change"])[:MOVERS]
    down = sorted((m for m in movers if m["change"] < 0), key=lambda m: m["change"])[:MOVERS]
    top_new = sorted((t for p in parts for t in p["top_new"]), key=lambda t: (-t[1], t[0]))
    top_old = sorted((t for p in parts for t in p["top_old"]), key=lambda t: (-t[1], t[0]))
    overlap: dict[str, float | None] = {}
    for k in TOP_K:
        if total["compared"] >= k:
            a = {t[0] for t in top_new[:k]}
            b = {t[0] for t in top_old[:k]}
            overlap[str(k)] = round(len(a & b) / k, 4)
        else:
            overlap[str(k)] = None
    sample = np.array([s for p in parts for s in p["sample"]], dtype=np.float64).reshape(-1, 2)
    tau = kendall_tau_b(sample[:, 0], sample[:, 1]) if len(sample) >= 2 else None
    return {
        "version": version,
        "against": against,
        **total,
        "mean_change": round(mean, 4),
        "mean_abs_change": round(mean_abs, 4),
        "sd_change": round(math.sqrt(var), 4),
        "delta_histogram": {"edges": DELTA_EDGES, "counts": add("delta_hist")},
        "score_histogram": {"edges": SCORE_EDGES, "new": add("new_hist"), "old": add("old_hist")},
        "biggest_gains": up,
        "biggest_losses": down,
        "kendall_tau_b": None if tau is None else round(tau, 4),
        "kendall_sample": len(sample),
        "top_k_overlap": overlap,
    }


def sample_rate(profiles: int) -> float:
    return min(1.0, SAMPLE_TARGET / max(profiles, 1))
