"""The model's per-pair quantities (:mod:`core.model`) computed without arrays per engagement row.

``core.model`` states the steps on whole arrays: a decayed count per row, a sum per (engager, author)
pair, a pair weight, an out-weight per engager, the fresh flags. Done literally on tens of millions of
rows that is a dozen arrays per row alive at once (masks, stacked columns, copies of the kept rows,
sort orders). Here the rows stay where they are: :func:`core.graph.group_pairs` gives one index per
kept row, a kernel reads each row's weight, type and decay through it and sums them per pair, and the
elementwise steps run on bounded chunks. Every value is bit for bit what the literal steps give: the
same float operations in the same order (rows of a pair are summed in input order), and the ``numpy``
functions of ``core.model`` (decay, pair weights, fresh flags) are applied to slices.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from core import model
from core.graph import PairRows
from core.integrity import soft_cap
from core.types import ENGAGEMENT_TYPES
from core.versions import AlgorithmParams

__all__ = [
    "PairCounts",
    "engagement_points",
    "first_seen",
    "fresh_flags",
    "mutual_weights",
    "out_weights",
    "pair_counts",
    "pair_weights",
    "reverse_counts",
]

#: Rows (or pairs) per slice of the elementwise ``numpy`` steps: bounds their temporaries.
CHUNK = 1 << 20


def _by_slices(fn: Callable[[np.ndarray], np.ndarray], values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[i:j] = fn(values[i:j])`` slice by slice, the slices spread over numba's threads (numpy
    releases the GIL in its ufuncs; each value is computed by the same function, so the result is the
    same bit for bit as in one go).
    """
    starts = range(0, len(values), CHUNK)

    def one(i: int) -> None:
        out[i : i + CHUNK] = fn(values[i : i + CHUNK])

    threads = min(numba.get_num_threads(), len(starts))
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, starts))
    else:
        for i in starts:
            one(i)
    return out


@dataclass(frozen=True)
class PairCounts:
    """Counts per pair, in the order of :class:`core.graph.PairRows` (rows by author, then engager).

    Attributes
    ----------
    indices : ndarray of int32
        Engager of each pair.
    count : ndarray of float64
        Decayed, type-weighted count.
    nodecay : ndarray of float64
        The same without decay (the very array ``count`` when no row is older than ``now``).
    amp_frac : ndarray of float64
        Share of the count from amplification types (:func:`core.model.amplification_share`).
    """

    indices: np.ndarray
    count: np.ndarray
    nodecay: np.ndarray
    amp_frac: np.ndarray


@njit(parallel=True, cache=True)
def _fill_counts(
    edge_indptr, order, engager, indptr, weight, in_order, etype, type_w, amp_type, decay, decays, indices,
    count, nodecay, amp_frac,
):  # pragma: no cover - compiled  # fmt: skip
    # per row (author), per pair (engager): base = weight * type_weight, c = base * decay, summed in
    # input order from 0.0 (what summing the stacked columns gives); the amplification part sums
    # c * 1.0 or c * 0.0 (``counts * amp`` of a boolean mask). ``in_order``: ``weight`` is already in
    # the order of ``order`` (read at j, in sequence), else it is the table's column (read at e)
    n = len(indptr) - 1
    for v in prange(n):
        p = indptr[v] - 1
        prev = -1
        c = 0.0
        a = 0.0
        b = 0.0
        for j in range(edge_indptr[v], edge_indptr[v + 1]):
            e = order[j]
            s = engager[j]
            if s != prev:
                if p >= indptr[v]:
                    _store(p, c, a, b, decays, count, nodecay, amp_frac)
                p += 1
                prev = s
                indices[p] = s
                c = 0.0
                a = 0.0
                b = 0.0
            t = etype[e]
            base = (weight[j] if in_order else weight[e]) * type_w[t]
            ce = base * decay[e] if decays else base
            c += ce
            a += ce * (1.0 if amp_type[t] else 0.0)
            b += base
        if p >= indptr[v]:
            _store(p, c, a, b, decays, count, nodecay, amp_frac)


@njit(cache=True)
def _store(p, c, a, b, decays, count, nodecay, amp_frac):  # pragma: no cover - compiled
    count[p] = c
    if decays:
        nodecay[p] = b
    f = 0.0
    if c > 0:
        f = min(max(a / c, 0.0), 1.0)
    amp_frac[p] = f


def _older_than(ts: np.ndarray, now: float) -> bool:
    """Whether any time lies before ``now`` (then some row decays), without a mask per row."""
    if len(ts) and ts.strides == (0,):  # a constant column
        return bool(ts[0] < now)
    return any(bool((ts[i : i + CHUNK] < now).any()) for i in range(0, len(ts), CHUNK))


def pair_counts(
    rows: PairRows,
    src: np.ndarray,
    weight: np.ndarray,
    etype: np.ndarray,
    ts: np.ndarray,
    params: AlgorithmParams,
    now: float,
) -> PairCounts:
    """Sum :func:`core.model.decayed_counts` of the rows per pair (and the amplification share).

    Parameters
    ----------
    rows : PairRows
        The grouping of the rows (:func:`core.graph.group_pairs` of ``src`` and the authors; with
        ``weight`` carried along, the sums read it in sequence: the same values, faster).
    src : ndarray of int64
        Engager of each row (``rows.engager`` holds them in pair order: the kernel reads those).
    weight, etype, ts : ndarray
        The engagement table's columns (validated).
    params : AlgorithmParams
    now : float
        Reference time of the decay.

    Returns
    -------
    PairCounts

    Examples
    --------
    >>> from core.graph import group_pairs, DROP_SELF
    >>> from core.versions import get_version
    >>> src, dst = np.array([0, 0, 1, 2]), np.array([1, 1, 1, 2])
    >>> rows = group_pairs(src, dst, 3, DROP_SELF)
    >>> pc = pair_counts(rows, src, np.array([1.0, 2.0, 1.0, 5.0]), np.array([0, 1, 0, 0], np.uint8),
    ...                  np.full(4, np.nan), get_version("v1"), 0.0)
    >>> pc.indices.tolist(), pc.count.tolist(), pc.amp_frac.tolist(), pc.nodecay is pc.count
    ([0], [7.0], [0.8571428571428571], True)
    """
    pairs = rows.n_pairs
    m = len(weight)
    type_w = np.asarray(params.type_weights, dtype=np.float64)
    amp_type = np.array([t in params.amplification_types for t in ENGAGEMENT_TYPES], dtype=np.bool_)
    decays = _older_than(ts, now)
    if decays:
        half_life = params.half_life_days
        decay = _by_slices(lambda t: model.decay_factors(t, now, half_life), ts, np.empty(m, np.float64))
    else:  # every factor is exactly 1 (2 ** -0.0)
        decay = np.ones(1, dtype=np.float64)
    indices = np.empty(pairs, dtype=np.int32)
    count = np.empty(pairs, dtype=np.float64)
    nodecay = np.empty(pairs if decays else 0, dtype=np.float64)
    amp_frac = np.empty(pairs, dtype=np.float64)
    in_order = rows.weight is not None
    _fill_counts(
        rows.edge_indptr, rows.order, rows.engager, rows.indptr, rows.weight if in_order else weight,
        in_order, etype, type_w, amp_type, decay, decays, indices, count, nodecay, amp_frac,
    )  # fmt: skip
    return PairCounts(indices, count, nodecay if decays else count, amp_frac)


def pair_weights(count: np.ndarray, exponent: float) -> np.ndarray:
    """:func:`core.model.pair_weights` slice by slice (float32, no float64 temporary per pair)."""
    return _by_slices(lambda c: model.pair_weights(c, exponent), count, np.empty(len(count), np.float32))


@njit(cache=True)
def _out_weights(indices, weights, n):  # pragma: no cover - compiled
    # ``np.bincount(indices, weights=weights.astype(float64), minlength=n)``: the same sums, same order
    out = np.zeros(n, np.float64)
    for j in range(len(indices)):
        out[indices[j]] += np.float64(weights[j])
    return out


def out_weights(indices: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Total pair weight each engager gives (float64 sums in pair order).

    Examples
    --------
    >>> out_weights(np.array([1, 0, 1], np.int32), np.array([1.0, 2.0, 0.5], np.float32), 3).tolist()
    [2.0, 1.5, 0.0]
    """
    return _out_weights(indices, weights, int(n))


def fresh_flags(cand: np.ndarray, indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`core.model.fresh_flags` applied to the candidate rows only (rows are independent; a row
    that is no candidate is never fresh).

    Examples
    --------
    >>> fresh_flags(np.array([True, True, False]), np.array([0, 1, 2, 3]), np.array([2, 1, 0], np.int32),
    ...             np.ones(3, np.float32)).tolist()
    [False, True, False]
    """
    n = len(cand)
    rows = np.flatnonzero(cand)
    fresh = np.zeros(n, dtype=np.bool_)
    if len(rows) == 0:
        return fresh
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    sub_indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=sub_indptr[1:])
    edges = np.repeat(starts - sub_indptr[:-1], lengths) + np.arange(int(sub_indptr[-1]), dtype=np.int64)
    fresh[rows] = model.fresh_flags(cand[rows], sub_indptr, cand[indices[edges]], weights[edges])
    return fresh


@njit(parallel=True, cache=True)
def _reverse_counts(indptr, indices, counts, out):  # pragma: no cover - compiled
    for v in prange(len(indptr) - 1):
        for j in range(indptr[v], indptr[v + 1]):
            u = indices[j]
            lo, end = indptr[u], indptr[u + 1]
            hi = end
            while lo < hi:  # the row of u is sorted by engager: find v in it
                mid = (lo + hi) >> 1
                if indices[mid] < v:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < end and indices[lo] == v:
                out[j] = counts[lo]


def reverse_counts(indptr: np.ndarray, indices: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """:func:`core.integrity.reverse_counts` by a binary search in the reverse pair's row (rows sorted
    by engager, as :func:`core.graph.group_pairs` leaves them): no sort of every pair's key.

    Examples
    --------
    >>> # rows by author: 1 <- 0 (count 2), 0 <- 1 (count 5), 2 <- 0 (count 1)
    >>> indptr, engagers = np.array([0, 1, 2, 3]), np.array([1, 0, 0], np.int32)
    >>> reverse_counts(indptr, engagers, np.array([5.0, 2.0, 1.0])).tolist()
    [2.0, 5.0, 0.0]
    """
    out = np.zeros(len(counts), dtype=np.float64)
    _reverse_counts(
        np.ascontiguousarray(indptr, np.int64), indices, np.ascontiguousarray(counts, np.float64), out
    )
    return out


@njit(cache=True)
def _first_seen(src, dst, ts, out):  # pragma: no cover - compiled
    for i in range(len(ts)):
        t = ts[i]
        if np.isfinite(t):
            if t < out[src[i]]:
                out[src[i]] = t
            if t < out[dst[i]]:
                out[dst[i]] = t


def first_seen(src: np.ndarray, dst: np.ndarray, ts: np.ndarray, n: int) -> np.ndarray:
    """Earliest engagement time (given or received) of each account; ``inf`` where none has a time
    (one pass over the rows; ``tests.naive.first_seen`` is the reference).

    Examples
    --------
    >>> first_seen(np.array([0, 1]), np.array([1, 2]), np.array([5.0, np.nan]), 4).tolist()
    [5.0, 5.0, inf, inf]
    """
    out = np.full(n, np.inf)
    _first_seen(src, dst, np.ascontiguousarray(ts, np.float64), out)
    return out


def mutual_weights(
    count: np.ndarray, reverse: np.ndarray, exponent: float, reciprocity: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`core.integrity.mutual_discounted_weights` and the weights before the discount
    (:func:`core.model.pair_weights`), with one power per pair: a pair nobody returns keeps its
    weight (``count ** p - reciprocity * 0 ** p`` is ``count ** p``), so the discount is computed on the
    returned pairs only. The same values bit for bit.

    Examples
    --------
    >>> w, given = mutual_weights(np.array([4.0, 4.0, 9.0]), np.array([0.0, 4.0, 4.0]), 0.5, 1.0)
    >>> w.tolist(), given.tolist()
    ([2.0, 0.0, 1.0], [2.0, 2.0, 3.0])
    """
    powered = np.asarray(count, np.float64) ** exponent
    given = powered.astype(np.float32)
    if exponent <= 0:  # 0 ** 0 is 1: no shortcut
        mutual = np.minimum(count, reverse)
        return np.maximum(powered - reciprocity * mutual**exponent, 0.0).astype(np.float32), given
    returned = np.flatnonzero(reverse > 0)
    mutual = np.minimum(count[returned], reverse[returned])
    np.maximum(powered, 0.0, out=powered)
    powered[returned] = np.maximum(powered[returned] - reciprocity * mutual**exponent, 0.0)
    return powered.astype(np.float32), given


@njit(parallel=True, cache=True)
def _row_sums(indptr, capped, s1, s2, count, flow):  # pragma: no cover - compiled
    for v in prange(len(indptr) - 1):
        a = 0.0
        b = 0.0
        c = 0.0
        for j in range(indptr[v], indptr[v + 1]):
            a += capped[j]
            b += capped[j] * capped[j]
            if flow[j] > 0:
                c += 1.0
        s1[v] = a
        s2[v] = b
        count[v] = c


@njit(parallel=True, cache=True)
def _row_points(
    indptr, capped, factor, amp_frac, volume, pair_points, amplification, impact
):  # pragma: no cover
    for v in prange(len(indptr) - 1):
        a = 0.0
        b = 0.0
        for j in range(indptr[v], indptr[v + 1]):
            p = capped[j] * factor[v]
            a += p * amp_frac[j]
            b += p * (1.0 - amp_frac[j])
            pair_points[j] = p * (amp_frac[j] / volume[v] + (1.0 - amp_frac[j]))
        amplification[v] = a / volume[v]
        impact[v] = b


def engagement_points(
    indptr: np.ndarray, flow: np.ndarray, amp_frac: np.ndarray, volume: np.ndarray, cap: float, k: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`core.integrity.engagement_points` on rows by author (``indptr``), the authors in
    parallel, and each author's count of engagers with a positive flow. Every sum adds its row's pairs
    in order from zero, as ``numpy.bincount`` does: the same values bit for bit.

    Examples
    --------
    >>> out = engagement_points(np.array([0, 2]), np.array([1.0, 1.0]), np.array([1.0, 0.0]),
    ...                         np.array([2.0]), 1e9, 2.0)
    >>> [[round(v, 3) for v in a.tolist()] for a in out]
    [[0.25, 0.5], [0.25], [0.5], [2.0], [0.5], [2.0]]
    """
    n = len(indptr) - 1
    indptr = np.ascontiguousarray(indptr, np.int64)
    capped = soft_cap(flow, cap)
    s1, s2, engagers = np.empty(n), np.empty(n), np.empty(n)
    _row_sums(indptr, capped, s1, s2, engagers, np.ascontiguousarray(flow, np.float64))
    neff = np.zeros(n)
    np.divide(s1 * s1, s2, out=neff, where=s2 > 0)
    factor = neff / (neff + k) if k > 0 else (neff > 0).astype(np.float64)
    pair_points = np.empty(len(capped))
    amplification, impact = np.empty(n), np.empty(n)
    _row_points(
        indptr, capped, factor, np.ascontiguousarray(amp_frac, np.float64),
        np.ascontiguousarray(volume, np.float64), pair_points, amplification, impact,
    )  # fmt: skip
    return pair_points, amplification, impact, neff, factor, engagers
