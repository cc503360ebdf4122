"""Compressed in-adjacency (CSR by author) built with a parallel two-pass counting sort.

(One module over 500 lines on purpose: the CSR build and the grouping of engagements by pair share the
counting sort, its fixed edge chunks and the row chunking that makes them independent of the threads.)

Row ``v`` of a :class:`CSRGraph` lists the engagers ``u`` of author ``v`` with their pair weights, the
layout a *pull* solver wants: each row is reduced by one thread, so the solver needs no atomics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from core.errors import InvalidEngagementsError, InvalidParametersError

__all__ = [
    "DROP_GROUP",
    "DROP_NONE",
    "DROP_SELF",
    "N_CHUNKS",
    "CSRGraph",
    "PairRows",
    "aggregate_pairs",
    "build_csr",
    "group_pairs",
    "row_chunks",
]

#: Fixed number of edge chunks of the parallel build (results do not depend on the thread count).
N_CHUNKS = 4
#: Row chunks of the parallel per-row sort (balanced by rows + edges).
SORT_CHUNKS = 256


@dataclass(frozen=True)
class CSRGraph:
    """In-adjacency of a weighted engagement graph.

    Attributes
    ----------
    n : int
        Number of nodes (accounts).
    indptr : ndarray of int64, shape (n + 1,)
        Row ``v`` (author) spans ``indices[indptr[v]:indptr[v + 1]]``.
    indices : ndarray of int32
        Engager of each in-edge.
    weights : ndarray of uint8 or float32
        Weight of each in-edge (``uint8`` when every weight is an integer in 0..255).
    out_weight : ndarray of float64, shape (n,)
        Total weight each node gives (sum of its out-edges), for the out-row normalisation.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    out_weight: np.ndarray

    @property
    def nnz(self) -> int:
        """Number of stored in-edges (duplicates kept)."""
        return len(self.indices)

    @property
    def nbytes(self) -> int:
        """Bytes held by the four arrays."""
        return int(self.indptr.nbytes + self.indices.nbytes + self.weights.nbytes + self.out_weight.nbytes)


@njit(parallel=True, cache=True)
def _count(src, dst, w, n, n_chunks):  # pragma: no cover - compiled
    m = len(dst)
    counts = np.zeros((n_chunks, n), np.int64)
    outw = np.zeros((n_chunks, n), np.float64)
    for c in prange(n_chunks):
        lo = m * c // n_chunks
        hi = m * (c + 1) // n_chunks
        for e in range(lo, hi):
            counts[c, dst[e]] += 1
            outw[c, src[e]] += w[e]
    return counts, outw


@njit(parallel=True, cache=True)
def _chunk_sums(per_chunk):  # pragma: no cover - compiled
    # every column's sum over the chunks (added in chunk order: the same sums whatever the threads)
    n_chunks, n = per_chunk.shape
    out = np.zeros(n, per_chunk.dtype)
    for v in prange(n):
        for c in range(n_chunks):
            out[v] += per_chunk[c, v]
    return out


@njit(parallel=True, cache=True)
def _row_cursors(counts):  # pragma: no cover - compiled
    # rows' start offsets (indptr, an exclusive prefix sum of the rows' lengths) and, in ``counts``
    # (per-chunk histograms of the rows), every chunk's first write position in each row
    n_chunks, n = counts.shape
    deg = _chunk_sums(counts)
    indptr = np.empty(n + 1, np.int64)
    acc = 0
    for v in range(n):
        indptr[v] = acc
        acc += deg[v]
    indptr[n] = acc
    for v in prange(n):
        o = indptr[v]
        for c in range(n_chunks):
            t = counts[c, v]
            counts[c, v] = o
            o += t
    return indptr


@njit(parallel=True, cache=True)
def _scatter(src, dst, w, offsets, indices, weights):  # pragma: no cover - compiled
    n_chunks = offsets.shape[0]
    m = len(dst)
    for c in prange(n_chunks):
        lo = m * c // n_chunks
        hi = m * (c + 1) // n_chunks
        for e in range(lo, hi):
            v = dst[e]
            p = offsets[c, v]
            offsets[c, v] = p + 1
            indices[p] = src[e]
            weights[p] = w[e] + 0  # + 0 turns a float -0.0 into +0.0 (sorts first by its bits)


@njit(cache=True)
def _key(indices, wbits, j):  # pragma: no cover - compiled
    return (np.int64(indices[j]) << 32) | np.int64(wbits[j])


@njit(parallel=True, cache=True)
def _sort_rows(indptr, indices, wbits, bounds):  # pragma: no cover - compiled
    # Sort every row by (engager, weight bits): short rows by insertion sort in place, long rows by
    # packing both into one int64 key per edge. Rows are independent (one chunk of rows per task).
    for c in prange(len(bounds) - 1):
        longest = 0
        for v in range(bounds[c], bounds[c + 1]):
            longest = max(longest, indptr[v + 1] - indptr[v])
        buf = np.empty(longest if longest > 24 else 0, np.int64)
        for v in range(bounds[c], bounds[c + 1]):
            a = indptr[v]
            b = indptr[v + 1]
            k = b - a
            if k <= 1:
                continue
            if k <= 24:
                for j in range(a + 1, b):
                    key = _key(indices, wbits, j)
                    iv = indices[j]
                    wv = wbits[j]
                    i = j - 1
                    while i >= a and _key(indices, wbits, i) > key:
                        indices[i + 1] = indices[i]
                        wbits[i + 1] = wbits[i]
                        i -= 1
                    indices[i + 1] = iv
                    wbits[i + 1] = wv
            else:
                done = True
                for j in range(k):
                    buf[j] = _key(indices, wbits, a + j)
                    if j and buf[j] < buf[j - 1]:
                        done = False
                if done:
                    continue
                seg = buf[:k]
                seg.sort()
                for j in range(k):
                    indices[a + j] = seg[j] >> 32
                    wbits[a + j] = seg[j] & 0xFFFFFFFF


@njit(parallel=True, cache=True)
def _inspect(src, dst, w, n_chunks):  # pragma: no cover - compiled
    # one pass over the edges: index range; weights finite and >= 0; all integers in 0..255
    m = len(src)
    lo = np.zeros(n_chunks, np.int64)
    hi = np.zeros(n_chunks, np.int64)
    bad = np.zeros(n_chunks, np.bool_)
    small = np.ones(n_chunks, np.bool_)
    for c in prange(n_chunks):
        a = m * c // n_chunks
        b = m * (c + 1) // n_chunks
        mn = np.int64(0)
        mx = np.int64(0)
        if b > a:
            mn = min(src[a], dst[a])
            mx = max(src[a], dst[a])
        bd = False
        sm = True
        for e in range(a, b):
            s = src[e]
            d = dst[e]
            mn = min(mn, min(s, d))
            mx = max(mx, max(s, d))
            x = w[e]
            if not (x >= 0 and x < np.inf):
                bd = True
            elif x > 255 or x != np.floor(x):
                sm = False
        lo[c] = mn
        hi[c] = mx
        bad[c] = bd
        small[c] = sm
    return lo.min(), hi.max(), bad.any(), small.all()


@njit(cache=True)
def _cost_search(indptr, targets):  # pragma: no cover - compiled
    # ``np.searchsorted(cost, targets, side="left")`` over the non-decreasing ``cost[i] = indptr[i + 1]
    # + i + 1`` (rows + edges up to row i), without making ``cost`` (two fresh arrays of n int64)
    n = len(indptr) - 1
    out = np.empty(len(targets), np.int64)
    for k in range(len(targets)):
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) // 2
            if indptr[mid + 1] + mid + 1 < targets[k]:
                lo = mid + 1
            else:
                hi = mid
        out[k] = lo
    return out


def row_chunks(indptr: np.ndarray, n_chunks: int) -> np.ndarray:
    """Split the rows into at most ``n_chunks`` contiguous chunks of about equal rows + edges."""
    n = len(indptr) - 1
    n_chunks = max(1, min(int(n_chunks), n))
    m = int(indptr[-1])
    targets = (np.arange(1, n_chunks, dtype=np.int64) * (m + n)) // n_chunks
    inner = _cost_search(np.asarray(indptr, dtype=np.int64), targets) + 1
    bounds = np.concatenate([[0], np.minimum(inner, n), [n]]).astype(np.int64)
    return np.maximum.accumulate(bounds)


def _check_edges(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(n, int | np.integer) or n < 1:
        raise InvalidParametersError(f"n must be a positive integer, got {n!r}")
    if n >= 2**31:
        raise InvalidParametersError("n must be < 2**31 (node indices are stored as int32)")
    s = np.ascontiguousarray(src)
    d = np.ascontiguousarray(dst)
    if s.ndim != 1 or d.ndim != 1 or len(s) != len(d):
        raise InvalidEngagementsError("src and dst must be 1-D arrays of equal length")
    if len(s) and not (np.issubdtype(s.dtype, np.integer) and np.issubdtype(d.dtype, np.integer)):
        raise InvalidEngagementsError("src and dst must be integer arrays")
    if s.dtype != np.int32 or d.dtype != np.int32:  # int32 stays int32 (a compact table), no copy
        s = s.astype(np.int64, copy=False)
        d = d.astype(np.int64, copy=False)
    return s, d


def _check_range(lo: int, hi: int, n: int) -> None:
    if lo < 0 or hi >= n:
        raise InvalidEngagementsError(f"node indices must lie in [0, {n}), found [{lo}, {hi}]")


def build_csr(src: np.ndarray, dst: np.ndarray, weight: np.ndarray | None, n: int) -> CSRGraph:
    """Build the in-adjacency (rows = ``dst``) of an edge list, each row sorted by engager.

    One parallel pass checks the edges (index range, weights finite and >= 0, small integers?); then a
    two-pass counting sort over a fixed number of edge chunks: per-chunk histograms of the
    destinations (and of the out-weights), an exclusive prefix sum giving every chunk its own write
    cursor per row, a race-free scatter; finally every row is sorted by ``(engager, weight)`` (rows in
    parallel), so that the solver gathers the ranks of a row in ascending address order. Duplicate
    edges are kept (they add up in the solver). The result does not depend on the thread count.

    Parameters
    ----------
    src, dst : ndarray of int
        Edge ``src -> dst`` (engager -> author), node indices in ``[0, n)``.
    weight : ndarray of float or None
        Edge weights (>= 0, finite); ``None`` means 1. Stored as ``uint8`` when they are all integers
        in 0..255, else as ``float32``.
    n : int
        Number of nodes.

    Returns
    -------
    CSRGraph

    Examples
    --------
    >>> g = build_csr(np.array([2, 0, 1]), np.array([1, 2, 1]), np.array([3.0, 1.0, 2.0]), 3)
    >>> g.indptr.tolist(), g.indices.tolist(), g.weights.tolist(), g.out_weight.tolist()
    ([0, 0, 2, 3], [1, 2, 0], [2, 3, 1], [1.0, 2.0, 3.0])
    """
    s, d = _check_edges(src, dst, n)
    m = len(s)
    if weight is None:
        w = np.ones(m, dtype=np.uint8)
    else:
        w = np.ascontiguousarray(weight)
        if w.ndim != 1 or len(w) != m:
            raise InvalidEngagementsError("weight must be a 1-D array with one entry per edge")
        if w.dtype != np.uint8:
            w = w.astype(np.float64, copy=False)
    compact = True
    if m:
        lo, hi, bad, small = _inspect(s, d, w, N_CHUNKS)
        _check_range(int(lo), int(hi), n)
        if bad:
            raise InvalidEngagementsError("weights must be finite and >= 0")
        compact = bool(small)
    counts, outw = _count(s, d, w, n, N_CHUNKS)
    out_weight = _chunk_sums(outw)
    del outw
    indptr = _row_cursors(counts)
    indices = np.empty(m, dtype=np.int32)
    weights = np.empty(m, dtype=np.uint8 if compact else np.float32)
    _scatter(s, d, w, counts, indices, weights)
    del counts
    if m:
        bounds = row_chunks(indptr, SORT_CHUNKS)
        _sort_rows(indptr, indices, weights if compact else weights.view(np.uint32), bounds)
    return CSRGraph(int(n), indptr, indices, weights, out_weight)


#: Rows up to this long are sorted by insertion (longer ones through packed int64 keys).
_SHORT_ROW = 32
#: Which engagements :func:`group_pairs` leaves out: none, an account's own, or those within a group.
DROP_NONE, DROP_SELF, DROP_GROUP = 0, 1, 2


@njit(cache=True)
def _kept(s, d, group, drop):  # pragma: no cover - compiled
    if drop == 1:
        return s != d
    if drop == 2:
        return group[s] != group[d]
    return True


@njit(parallel=True, cache=True)
def _count_kept(src, dst, group, drop, n, n_chunks):  # pragma: no cover - compiled
    # per-chunk histograms of the destinations of the edges kept
    m = len(dst)
    counts = np.zeros((n_chunks, n), np.int64)
    for c in prange(n_chunks):
        lo = m * c // n_chunks
        hi = m * (c + 1) // n_chunks
        for e in range(lo, hi):
            d = dst[e]
            if _kept(src[e], d, group, drop):
                counts[c, d] += 1
    return counts


@njit(parallel=True, cache=True)
def _scatter_kept(
    src, dst, group, drop, offsets, order, engager, weight, carried
):  # pragma: no cover - compiled
    # every kept edge's index (and its source, and its weight when ``carried`` has room) into its row:
    # rows by destination, edges of a row in input order
    n_chunks = offsets.shape[0]
    m = len(dst)
    carry = len(carried) > 0
    for c in prange(n_chunks):
        lo = m * c // n_chunks
        hi = m * (c + 1) // n_chunks
        for e in range(lo, hi):
            d = dst[e]
            if _kept(src[e], d, group, drop):
                p = offsets[c, d]
                offsets[c, d] = p + 1
                order[p] = e
                engager[p] = src[e]
                if carry:
                    carried[p] = weight[e]


@njit(parallel=True, cache=True)
def _sort_by_engager(indptr, order, engager, carried, bounds):  # pragma: no cover - compiled
    # Sort every row's edges by engager, stably (ties keep input order), and count its distinct
    # engagers (``engager`` holds each edge's source, moved along; so does ``carried``, each edge's
    # weight, unless it is empty). Short rows by insertion sort on local (engager, edge, weight)
    # buffers; long rows through int64 keys (engager << 32 | position), each chunk of rows with one
    # key buffer.
    n = len(indptr) - 1
    uniq = np.zeros(n, np.int64)
    carry = len(carried) > 0
    for c in prange(len(bounds) - 1):
        longest = 0
        for v in range(bounds[c], bounds[c + 1]):
            longest = max(longest, indptr[v + 1] - indptr[v])
        size = longest if longest > _SHORT_ROW else 0
        keys = np.empty(size, np.int64)
        seg = order[:size].copy()
        wseg = carried[: size if carry else 0].copy()
        kbuf = np.empty(_SHORT_ROW, np.int64)
        ebuf = order[:_SHORT_ROW].copy()
        wbuf = np.zeros(_SHORT_ROW, carried.dtype)
        for v in range(bounds[c], bounds[c + 1]):
            a = indptr[v]
            b = indptr[v + 1]
            k = b - a
            distinct = 0
            if k <= _SHORT_ROW:
                for t in range(k):
                    e = order[a + t]
                    key = np.int64(engager[a + t])
                    wt = carried[a + t] if carry else wbuf[0]
                    i = t - 1
                    while i >= 0 and kbuf[i] > key:
                        kbuf[i + 1] = kbuf[i]
                        ebuf[i + 1] = ebuf[i]
                        wbuf[i + 1] = wbuf[i]
                        i -= 1
                    kbuf[i + 1] = key
                    ebuf[i + 1] = e
                    wbuf[i + 1] = wt
                prev = -1
                for t in range(k):
                    order[a + t] = ebuf[t]
                    engager[a + t] = kbuf[t]
                    if carry:
                        carried[a + t] = wbuf[t]
                    if kbuf[t] != prev:
                        distinct += 1
                        prev = kbuf[t]
            else:
                done = True
                for t in range(k):
                    e = order[a + t]
                    seg[t] = e
                    if carry:
                        wseg[t] = carried[a + t]
                    keys[t] = (np.int64(engager[a + t]) << 32) | t
                    if t and keys[t] < keys[t - 1]:
                        done = False
                part = keys[:k]
                if not done:
                    part.sort()
                    for t in range(k):
                        order[a + t] = seg[part[t] & 0xFFFFFFFF]
                    if carry:
                        for t in range(k):
                            carried[a + t] = wseg[part[t] & 0xFFFFFFFF]
                prev = -1
                for t in range(k):
                    s = part[t] >> 32
                    engager[a + t] = s
                    if s != prev:
                        distinct += 1
                        prev = s
            uniq[v] = distinct
    return uniq


@dataclass(frozen=True)
class PairRows:
    """Edges grouped by (author, engager) pair, from :func:`group_pairs`.

    Attributes
    ----------
    edge_indptr : ndarray of int64, shape (n + 1,)
        Row ``v`` (author) spans ``order[edge_indptr[v]:edge_indptr[v + 1]]``.
    order : ndarray of int32 (int64 from 2**31 edges)
        Index of each kept edge, rows by author, each row by engager, ties in input order.
    engager : ndarray of int32 (int64 from 2**31 nodes)
        Engager (``src``) of each edge of ``order``: the kernels over the pairs read it in sequence.
    weight : ndarray or None
        Weight of each edge of ``order`` (same dtype as the weights given to :func:`group_pairs`),
        when they were given: read in sequence too, instead of at each edge's place in the table.
    """

    edge_indptr: np.ndarray
    order: np.ndarray
    indptr: np.ndarray
    engager: np.ndarray
    weight: np.ndarray | None = None

    @property
    def n_pairs(self) -> int:
        """Number of distinct (author, engager) pairs."""
        return int(self.indptr[-1])


def group_pairs(
    src: np.ndarray,
    dst: np.ndarray,
    n: int,
    drop: int = DROP_NONE,
    group: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> PairRows:
    """Group the edges by ``(dst, src)`` pair without moving them: one index per kept edge.

    A two-pass counting sort by ``dst`` over a fixed number of edge chunks (input order within a row),
    then every row sorted stably by ``src`` (rows in parallel). Memory: 8 bytes per kept edge (its
    index and its source; 16 from 2**31 edges), plus its weight when ``weight`` is given (moved along
    with the index: the per-pair sums then read it in sequence instead of at random), and a few
    arrays per node; the edges themselves are not copied.

    Parameters
    ----------
    src, dst : ndarray of int
        Edges (node indices in ``[0, n)``; not checked here beyond what indexing needs: the callers'
        engagement tables are validated).
    n : int
        Number of nodes.
    drop : int
        :data:`DROP_NONE`, :data:`DROP_SELF` (edges ``u -> u``) or :data:`DROP_GROUP` (edges within one
        ``group``, e.g. the accounts of one profile).
    group : ndarray of int or None
        Group of each node, for :data:`DROP_GROUP`.
    weight : ndarray or None
        Weight of each edge, to carry along (:attr:`PairRows.weight`).

    Returns
    -------
    PairRows

    Examples
    --------
    >>> r = group_pairs(np.array([2, 0, 2, 1]), np.array([1, 1, 1, 1]), 3, DROP_SELF)
    >>> r.edge_indptr.tolist(), r.order.tolist(), r.indptr.tolist()
    ([0, 0, 3, 3], [1, 0, 2], [0, 0, 2, 2])
    """
    s, d = _check_edges(src, dst, n)
    if drop == DROP_GROUP:
        if group is None or len(group) != n:
            raise InvalidParametersError("drop=DROP_GROUP needs a group per node")
        g = np.ascontiguousarray(group, dtype=np.int64)
    elif drop in (DROP_NONE, DROP_SELF):
        g = np.zeros(1, np.int64)
    else:
        raise InvalidParametersError(f"unknown drop rule {drop!r}")
    m = len(s)
    counts = _count_kept(s, d, g, drop, n, N_CHUNKS)
    edge_indptr = _row_cursors(counts)
    kept = int(edge_indptr[-1])
    order = np.empty(kept, dtype=np.int32 if m < 2**31 else np.int64)
    engager = np.empty(kept, dtype=np.int32 if n < 2**31 else np.int64)
    if weight is None:
        w = carried = np.zeros(0, np.float32)
    else:
        w = np.asarray(weight)
        if w.shape != (m,):
            raise InvalidParametersError("weight must hold one value per edge")
        carried = np.empty(kept, dtype=w.dtype)
    _scatter_kept(s, d, g, drop, counts, order, engager, w, carried)
    del counts
    uniq = _sort_by_engager(edge_indptr, order, engager, carried, row_chunks(edge_indptr, SORT_CHUNKS))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(uniq, out=indptr[1:])
    return PairRows(edge_indptr, order, indptr, engager, None if weight is None else carried)


@njit(parallel=True, cache=True)
def _dedup_fill(indptr, order, engager, vals, new_indptr, indices, out):  # pragma: no cover - compiled
    n = len(indptr) - 1
    k = vals.shape[1]
    for v in prange(n):
        p = new_indptr[v] - 1
        prev = -1
        for j in range(indptr[v], indptr[v + 1]):
            e = order[j]
            s = engager[j]
            if s != prev:
                p += 1
                prev = s
                indices[p] = s
                for t in range(k):
                    out[p, t] = 0.0
            for t in range(k):
                out[p, t] += vals[e, t]


def aggregate_pairs(
    src: np.ndarray, dst: np.ndarray, values: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum the value columns of duplicate ``(src, dst)`` pairs, grouped by ``dst`` then ``src``.

    Parameters
    ----------
    src, dst : ndarray of int
        Edges (node indices in ``[0, n)``).
    values : ndarray of float64, shape (m, k)
        Columns to add up per pair.
    n : int
        Number of nodes.

    Returns
    -------
    indptr : ndarray of int64 (n + 1)
        Rows by ``dst``.
    indices : ndarray of int32
        Distinct engagers of each row, ascending.
    sums : ndarray of float64, shape (pairs, k)
        Summed values per pair (summed in input order, so the result is deterministic).

    Examples
    --------
    >>> ip, ix, v = aggregate_pairs(np.array([2, 0, 2]), np.array([1, 1, 1]), np.ones((3, 1)), 3)
    >>> ip.tolist(), ix.tolist(), v[:, 0].tolist()
    ([0, 0, 2, 2], [0, 2], [1.0, 2.0])
    """
    s, d = _check_edges(src, dst, n)
    if len(s):
        _check_range(min(int(s.min()), int(d.min())), max(int(s.max()), int(d.max())), n)
    vals = np.ascontiguousarray(values, dtype=np.float64)
    if vals.ndim != 2 or vals.shape[0] != len(s):
        raise InvalidEngagementsError("values must have shape (len(src), k)")
    rows = group_pairs(s, d, n)
    indices = np.empty(rows.n_pairs, dtype=np.int32)
    out = np.empty((rows.n_pairs, vals.shape[1]), dtype=np.float64)
    _dedup_fill(rows.edge_indptr, rows.order, rows.engager, vals, rows.indptr, indices, out)
    return rows.indptr, indices, out


def num_threads() -> int:
    """Threads numba runs parallel kernels on."""
    return int(numba.get_num_threads())
