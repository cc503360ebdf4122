"""An exact quantile of values spread over partitions, found in a few rounds of small histograms.

The partitioned solve needs one global quantile (the engager cap of the integrity rules,
:func:`core.integrity.cap_level`) of values that live in every partition (one per engager-author
pair). Gathering them is not an option at scale; a sketch would be approximate. Positive float64
values order as their 64-bit patterns, so a radix selection finds the exact order statistics: each
round, every partition counts its values by the next :data:`DIGIT_BITS` bits among those that share
the bits already decided (a sparse histogram of at most ``2 ** DIGIT_BITS`` entries), and the merge
decides the next digit of each wanted order statistic. :data:`ROUNDS` rounds give the exact values;
the quantile interpolates between the two neighbours of its virtual index as ``numpy.quantile``
(method ``linear``) does.

Round 0 counts every value, so the merge also learns how many there are and which ranks it needs.

Examples
--------
>>> rng = np.random.default_rng(1)
>>> parts = [rng.lognormal(size=n) for n in (50, 0, 31)]
>>> state = start(0.9)
>>> for _ in range(ROUNDS):
...     state = merge(state, [histogram(v, state) for v in parts])
>>> result(state) == float(np.quantile(np.concatenate(parts), 0.9))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["DIGIT_BITS", "ROUNDS", "histogram", "merge", "result", "start"]

#: Bits decided per round.
DIGIT_BITS = 16
#: Rounds to decide all 64 bits.
ROUNDS = 64 // DIGIT_BITS
_MASK = (1 << DIGIT_BITS) - 1


def start(quantile: float) -> dict[str, Any]:
    """The selection's state before round 0 (JSON-serialisable: it travels in the workflow's state)."""
    return {"quantile": float(quantile), "round": 0, "count": None, "targets": []}


def _keys(values: np.ndarray) -> np.ndarray:
    v = np.ascontiguousarray(values, dtype=np.float64)
    if len(v) and not (v > 0).all():
        raise ValueError("radix selection needs positive values")
    return v.view(np.uint64)


def histogram(values: np.ndarray, state: dict[str, Any]) -> list[dict[str, list[int]]]:
    """One partition's counts for the round: per wanted target, the values sharing its decided
    bits, by their next digit (``{"digit": [...], "count": [...]}``; one entry in round 0).
    """
    keys = _keys(values)
    r = int(state["round"])
    shift = np.uint64(64 - DIGIT_BITS * (r + 1))
    prefixes = [0] if r == 0 else [int(t["prefix"]) for t in state["targets"]]
    out = []
    for prefix in prefixes:
        sel = keys
        if r > 0:
            high = np.uint64(64 - DIGIT_BITS * r)
            sel = keys[(keys >> high) == np.uint64(prefix >> (64 - DIGIT_BITS * r))]
        digits, counts = np.unique((sel >> shift) & np.uint64(_MASK), return_counts=True)
        out.append({"digit": digits.astype(np.int64).tolist(), "count": counts.astype(np.int64).tolist()})
    return out


def _virtual(count: int, q: float) -> tuple[int, float]:
    """``numpy.quantile``'s virtual index for method ``linear``: the lower rank and the weight."""
    virtual = (count - 1) * q
    lower = int(np.floor(virtual))
    return lower, float(virtual - lower)


def merge(state: dict[str, Any], parts: Sequence[Sequence[dict[str, list[int]]]]) -> dict[str, Any]:
    """Merge the partitions' histograms of a round into the next state."""
    r = int(state["round"])
    state = dict(state)
    if r == 0:
        count = sum(sum(h[0]["count"]) for h in parts)
        state["count"] = count
        if count == 0:
            state["round"] = ROUNDS
            return state
        lower, weight = _virtual(count, float(state["quantile"]))
        state["weight"] = weight
        state["ranks"] = [min(lower, count - 1), min(lower + 1, count - 1)]
        ranks = sorted(set(state["ranks"]))
        targets = [{"rank": k, "prefix": 0} for k in ranks]
    else:
        targets = [dict(t) for t in state["targets"]]
    shift = 64 - DIGIT_BITS * (r + 1)
    for j, t in enumerate(targets):
        totals: dict[int, int] = {}
        for h in parts:
            entry = h[0] if r == 0 else h[j]
            for d, c in zip(entry["digit"], entry["count"], strict=True):
                totals[int(d)] = totals.get(int(d), 0) + int(c)
        below = 0
        for d in sorted(totals):
            if below + totals[d] > t["rank"]:
                t["prefix"] = int(t["prefix"]) | (d << shift)
                t["rank"] = int(t["rank"]) - below
                break
            below += totals[d]
    state["targets"] = targets
    if r == 0:
        state["original"] = ranks
    state["round"] = r + 1
    return state


def result(state: dict[str, Any], empty: float = 1.0) -> float:
    """The quantile, once every round is merged (``empty`` when there were no values)."""
    if int(state["round"]) < ROUNDS:
        raise ValueError("the selection has rounds left")
    if not state["count"]:
        return float(empty)
    found = {
        rank: float(np.array([t["prefix"]], dtype=np.uint64).view(np.float64)[0])
        for rank, t in zip(state["original"], state["targets"], strict=True)
    }
    a, b = (found[k] for k in state["ranks"])
    t = float(state["weight"])
    diff = b - a
    return float(b - diff * (1 - t)) if t >= 0.5 else float(a + diff * t)
