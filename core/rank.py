"""Influence rank: personalised, weighted PageRank by pull-based power iteration.

(Just over 500 lines: the solver's kernels, their serial and parallel variants and the pacing of the
passes are one algorithm, read together.)

Given the in-adjacency ``A`` (row ``v`` lists the engagers ``u`` of ``v`` with weights ``w_uv``) and a
per-node out-scale ``c_u`` (default ``1 / out_weight_u``, 0 for nodes that give nothing), one pass is

    y_u     = c_u * x_u                              (float32, the gathered vector)
    f_v     = damping * sum_u w_uv * y_u             (rank flowing along engagements)
    x'_v    = f_v + (1 - sum(f)) * t_v               (the rest teleports, proportionally to t)

so ``x`` stays a probability vector; mass that does not flow (dangling nodes, and the leak of the
out-row normalisation when ``c_u * out_weight_u < 1``) is redistributed by the teleport ``t``. The
flowing mass ``sum(f) = sum_u leak_u x_u`` (``leak_u = damping * c_u * out_weight_u``) is known before
the pass, so a pass computes ``x'_v = f_v + (1 - leak . x) t_v`` row by row and then renormalises
(removing the float32 rounding drift). It stops when the L1 change ``sum |x' - x|`` is below ``tol``.

Default (``method="gauss-seidel"``): the rows are swept in 4 blocks, in order; rows of a block read
the ranks already updated by the blocks before it (Gauss-Seidel across blocks, Jacobi within a block,
so it stays race-free and deterministic). On the benchmark power-law graphs this cuts the passes to
L1 < 1e-6 from 10 to 8 (8 blocks: also 8; full row-by-row Gauss-Seidel: 7). ``method="jacobi"`` is
one block.

Rows are reduced by one thread each (no atomics on the ranks) over a fixed partition of the rows into
256 chunks of equal cost (rows + edges). Within a block the threads claim chunks one at a time from an
atomic counter (numba's own ``prange`` splits the iterations statically: a thread that shares its
core with another process would hold the others at the end of every block); partial sums are added in
chunk order, so results do not depend on the thread count or on which thread reduced which chunk.
A row's dot product ``sum w_uv y_u`` is compiled with ``reassoc`` (several partial sums, vector
gathers where the CPU has them) and indexes the edges through ``indptr`` read as uint64 (no
negative-index wraparound). :func:`core.graph.build_csr` sorts every row by engager, so a row gathers
its ranks in ascending address order. Graphs under ``PARALLEL_MIN_EDGES`` edges run the same kernels
compiled without ``parallel``.
"""

from __future__ import annotations

import time

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from core.errors import InvalidParametersError
from core.graph import CSRGraph, row_chunks

__all__ = ["default_out_scale", "influence_rank"]

_ROW_CHUNKS = 256
_BLOCKS = 4


if getattr(numba.config, "DISABLE_JIT", False):

    def _claim(counter: np.ndarray) -> int:
        """Next row chunk (pure-Python execution runs one thread)."""
        c = int(counter[0])
        counter[0] = c + 1
        return c

else:

    @intrinsic
    def _claim(typingctx, counter):  # type: ignore[no-untyped-def]
        """Atomically ``counter[0] += 1``, returning the value before: the next row chunk to reduce."""
        if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
            return None
        sig = types.int64(counter)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            ary = context.make_array(signature.args[0])(context, builder, args[0])
            one = context.get_constant(types.int64, 1)
            return builder.atomic_rmw("add", ary.data, one, "monotonic")

        return sig, codegen


@njit(cache=True, fastmath={"reassoc"})
def _row_dot(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, y: np.ndarray, v: int
) -> float:  # pragma: no cover
    # ``sum_j w_j y[u_j]`` over row ``v``: float32 products, float64 sum. ``reassoc`` lets LLVM keep
    # several partial sums (and use vector gathers where the CPU has them); the order of the additions
    # within a row is fixed by the compiled code, the same in the serial and the parallel kernels.
    # ``indptr`` is read as uint64: an unsigned edge index needs no negative-index wraparound.
    s = 0.0
    for j in range(indptr[v], indptr[v + 1]):
        s += weights[j] * y[indices[j]]
    return s


@njit(cache=True)
def _block_chunk(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    y: np.ndarray,
    xnew: np.ndarray,
    t: np.ndarray,
    tstep: int,
    beta: float,
    damping: float,
    lo: int,
    hi: int,
) -> float:  # pragma: no cover - compiled
    # rows ``lo .. hi - 1``: ``x'_v = d * row_dot + beta * t_v`` into ``xnew`` (``t_v = t[v * tstep]``:
    # ``tstep`` 0 for a uniform teleport held in one element); returns their sum. Rows read ``y``
    # and write ``xnew`` only: the rows of a block run in any order, on any thread (race-free).
    acc = 0.0
    for v in range(lo, hi):
        nv = damping * _row_dot(indptr, indices, weights, y, v) + beta * t[v * tstep]
        xnew[v] = nv
        acc += nv
    return acc


# The parallel and the serial kernels are distinct functions: numba files the cache of a function under
# its name and keys it by signature, CPU and bytecode only, so ``njit(parallel=True)(f)`` and ``njit(f)``
# of one ``f`` load whichever of the two was cached first (a "parallel" kernel running on one thread).


@njit(parallel=True, cache=True)
def _block_par(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    y: np.ndarray,
    xnew: np.ndarray,
    t: np.ndarray,
    tstep: int,
    beta: float,
    damping: float,
    bounds: np.ndarray,
    c0: int,
    c1: int,
    part: np.ndarray,
    counter: np.ndarray,
    claims: np.ndarray,
) -> None:  # pragma: no cover - compiled
    # One Gauss-Seidel block, chunks ``c0 .. c1 - 1``, their sums into ``part``. The threads
    # (``len(claims)`` workers) claim chunks one at a time from ``counter``: a thread that gets less
    # CPU does fewer chunks; ``claims[w]`` counts the chunks worker ``w`` reduced.
    counter[0] = c0
    for w in prange(len(claims)):
        k = 0
        c = _claim(counter)
        while c < c1:
            part[c] = _block_chunk(indptr, indices, weights, y, xnew, t, tstep, beta, damping, bounds[c],
                                   bounds[c + 1])  # fmt: skip
            k += 1
            c = _claim(counter)
        claims[w] = k


@njit(cache=True)
def _block_ser(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    y: np.ndarray,
    xnew: np.ndarray,
    t: np.ndarray,
    tstep: int,
    beta: float,
    damping: float,
    bounds: np.ndarray,
    c0: int,
    c1: int,
    part: np.ndarray,
    counter: np.ndarray,
    claims: np.ndarray,
) -> None:  # pragma: no cover - compiled
    # the same block on the calling thread
    for c in range(c0, c1):
        part[c] = _block_chunk(indptr, indices, weights, y, xnew, t, tstep, beta, damping, bounds[c],
                               bounds[c + 1])  # fmt: skip
    claims[0] = c1 - c0


@njit(cache=True)
def _publish(
    xnew: np.ndarray, scale: np.ndarray, y: np.ndarray, lo: int, hi: int
) -> None:  # pragma: no cover - compiled
    # a block's new values into the gathered vector, for the blocks after it
    for v in range(lo, hi):
        y[v] = np.float32(xnew[v] * scale[v])


@njit(cache=True)
def _start(
    x: np.ndarray,
    scale: np.ndarray,
    out_weight: np.ndarray,
    damping: float,
    y: np.ndarray,
    default_scale: bool,
) -> float:  # pragma: no cover - compiled
    # the gathered vector of ``x`` and the mass that flows from it (``sum leak * x``); with
    # ``default_scale``, first ``scale = 1 / out_weight`` (0 where a node gives nothing), in the same pass
    flow = 0.0
    for v in range(len(x)):
        if default_scale:
            ow = out_weight[v]
            scale[v] = 1.0 / ow if ow > 0 else 0.0
        y[v] = np.float32(x[v] * scale[v])
        flow += damping * scale[v] * out_weight[v] * x[v]
    return flow


@njit(cache=True)
def _finish_chunk(
    xnew: np.ndarray,
    x: np.ndarray,
    scale: np.ndarray,
    out_weight: np.ndarray,
    damping: float,
    y: np.ndarray,
    inv_total: float,
    fpart: np.ndarray,
    c: int,
    lo: int,
    hi: int,
) -> None:  # pragma: no cover - compiled
    # rows ``lo .. hi - 1`` of chunk ``c``: normalise, L1 change and flowing mass into ``fpart``, the
    # new ranks into ``x`` and ``y`` (``leak = damping * scale * out_weight``: the share of a node's rank
    # that flows along its engagements)
    r = 0.0
    lk = 0.0
    for v in range(lo, hi):
        nv = xnew[v] * inv_total
        r += abs(nv - x[v])
        lk += damping * scale[v] * out_weight[v] * nv
        x[v] = nv
        y[v] = np.float32(nv * scale[v])
    fpart[2 * c] = r
    fpart[2 * c + 1] = lk


@njit(cache=True)
def _chunk_sum(
    part: np.ndarray, n_chunks: int, stride: int, offset: int
) -> float:  # pragma: no cover - compiled
    # ``sum part[stride * c + offset]`` in chunk order
    total = 0.0
    for c in range(n_chunks):
        total += part[stride * c + offset]
    return total


@njit(parallel=True, cache=True)
def _finish_par(
    xnew: np.ndarray,
    x: np.ndarray,
    scale: np.ndarray,
    out_weight: np.ndarray,
    damping: float,
    y: np.ndarray,
    part: np.ndarray,
    bounds: np.ndarray,
    fpart: np.ndarray,
    counter: np.ndarray,
    workers: int,
) -> tuple[float, float]:  # pragma: no cover - compiled
    # normalise the pass's result (its total: the chunk sums in ``part``, added in chunk order),
    # measure the L1 change, move it into ``x`` and ``y`` and return the mass that will flow in the
    # next pass (``sum leak * x``); ``fpart`` holds two sums per chunk
    n_chunks = len(bounds) - 1
    inv_total = 1.0 / _chunk_sum(part, n_chunks, 1, 0)
    counter[0] = 0
    for _w in prange(workers):
        c = _claim(counter)
        while c < n_chunks:
            _finish_chunk(
                xnew, x, scale, out_weight, damping, y, inv_total, fpart, c, bounds[c], bounds[c + 1]
            )
            c = _claim(counter)
    return _chunk_sum(fpart, n_chunks, 2, 0), _chunk_sum(fpart, n_chunks, 2, 1)


@njit(cache=True)
def _finish_ser(
    xnew: np.ndarray,
    x: np.ndarray,
    scale: np.ndarray,
    out_weight: np.ndarray,
    damping: float,
    y: np.ndarray,
    part: np.ndarray,
    bounds: np.ndarray,
    fpart: np.ndarray,
    counter: np.ndarray,
    workers: int,
) -> tuple[float, float]:  # pragma: no cover - compiled
    # the same on the calling thread
    n_chunks = len(bounds) - 1
    inv_total = 1.0 / _chunk_sum(part, n_chunks, 1, 0)
    for c in range(n_chunks):
        _finish_chunk(xnew, x, scale, out_weight, damping, y, inv_total, fpart, c, bounds[c], bounds[c + 1])
    return _chunk_sum(fpart, n_chunks, 2, 0), _chunk_sum(fpart, n_chunks, 2, 1)


class _Pace:
    """Chooses, block by block, the parallel or the serial kernels: whichever reduced rows faster lately.

    Both give bit-identical results, so the choice changes the time only. A parallel block ends when
    every thread of numba's pool has checked in: when another process holds one of the two cores, the
    second thread arrives late at every block (a scheduler time slice, several ms), and the serial
    kernel on the free core is 2-3x faster than the parallel one. The pace starts parallel; when the
    chunks of a parallel block were split unevenly (the thread that did the fewest did less than 2/3
    of an even share: a speed-up under 1.5 on two threads), it tries the serial kernel and from then
    on compares the two (seconds per unit of work, rows + edges), trying the slower one again after
    ``retry`` blocks, twice as many after every trial that did not change the choice.
    """

    def __init__(self, parallel: bool, retry: int = 8) -> None:
        self.parallel = parallel
        self.retry = retry
        self.rate: dict[bool, float | None] = {True: None, False: None}
        self.age = {True: 0, False: 0}
        self.helped = True  # did the other threads do their share in the last parallel block?
        self.trying: bool | None = None  # the kernel on trial, if any
        self.first = True  # the solve's first block wakes the pool and faults in fresh pages: not judged

    def pick(self) -> bool:
        if not self.parallel:
            return False
        par, ser = self.rate[True], self.rate[False]
        if par is None:
            return True
        if ser is None:
            return self.helped
        best = par <= ser
        if self.age[not best] >= self.retry and (best is False or not self.helped):
            self.trying = not best
            return not best
        return best

    def record(self, parallel: bool, seconds: float, work: float, balance: float = 1.0) -> None:
        """A block took ``seconds`` for ``work``; ``balance``: fewest chunks of a thread / even share."""
        if self.first:
            self.first = False
            return
        rate = seconds / max(work, 1.0)
        if self.trying is not None:
            other = self.rate[not parallel]
            if other is not None and rate > other:  # the trial lost: wait longer before the next one
                self.retry *= 2
            self.trying = None
        old = self.rate[parallel]
        self.rate[parallel] = rate if old is None else 0.5 * (old + rate)
        self.age[parallel] = 0
        self.age[not parallel] += 1
        if parallel:
            self.helped = balance >= 2.0 / 3.0


#: Graphs with fewer edges are solved on one thread (a parallel region costs more than it saves).
PARALLEL_MIN_EDGES = 1_000_000


def _row_bounds(indptr: np.ndarray, n_chunks: int) -> np.ndarray:
    return row_chunks(indptr, n_chunks)


def default_out_scale(graph: CSRGraph) -> np.ndarray:
    """``1 / out_weight`` (0 where a node gives nothing): plain weighted PageRank."""
    ow = graph.out_weight
    scale = np.zeros(graph.n, dtype=np.float64)
    np.divide(1.0, ow, out=scale, where=ow > 0)
    return scale


def influence_rank(
    graph: CSRGraph,
    teleport: np.ndarray | None = None,
    damping: float = 0.85,
    tol: float = 1e-6,
    max_iter: int = 100,
    x0: np.ndarray | None = None,
    *,
    out_scale: np.ndarray | None = None,
    method: str = "gauss-seidel",
) -> tuple[np.ndarray, int, float]:
    """Personalised weighted PageRank of ``graph`` by power iteration.

    Parameters
    ----------
    graph : CSRGraph
        In-adjacency from :func:`core.graph.build_csr`.
    teleport : ndarray or None
        Non-negative teleport weights per node (normalised here); ``None`` = uniform.
    damping : float
        Probability of following an engagement, in (0, 1).
    tol : float
        Stop when the L1 change between passes is below ``tol``.
    max_iter : int
        Maximum number of passes.
    x0 : ndarray or None
        Warm start (e.g. the previous ranks); normalised here. Default: the teleport vector.
    out_scale : ndarray or None
        Factor ``c_u`` applied to the rank of ``u`` before it flows along ``u``'s edges; must satisfy
        ``c_u * out_weight_u <= 1``. Default: :func:`default_out_scale`.
    method : {"gauss-seidel", "jacobi"}
        ``gauss-seidel`` (default): rows swept in 4 blocks, each block reading the ranks already updated
        by the blocks before it. ``jacobi``: every pass reads only the previous pass's ranks. Both
        converge to the same fixed point (the same stopping rule: L1 change of the normalised ranks).

    Returns
    -------
    ranks : ndarray of float64
        Stationary ranks, summing to 1.
    iterations : int
        Passes made.
    residual : float
        L1 change of the last pass.

    Examples
    --------
    >>> from core.graph import build_csr
    >>> g = build_csr(np.array([0, 1, 2]), np.array([1, 2, 1]), None, 3)
    >>> x, it, res = influence_rank(g)
    >>> bool(x[1] > x[2] > x[0]), round(float(x.sum()), 6), res < 1e-6
    (True, 1.0, True)
    """
    if not isinstance(graph, CSRGraph):
        raise InvalidParametersError("graph must be a CSRGraph (see core.graph.build_csr)")
    n = graph.n
    if not 0.0 < float(damping) < 1.0:
        raise InvalidParametersError(f"damping must be in (0, 1), got {damping}")
    if not 0.0 < float(tol) < 1.0:
        raise InvalidParametersError(f"tol must be in (0, 1), got {tol}")
    if int(max_iter) < 1:
        raise InvalidParametersError(f"max_iter must be >= 1, got {max_iter}")
    if method not in ("gauss-seidel", "jacobi"):
        raise InvalidParametersError(f"method must be 'gauss-seidel' or 'jacobi', got {method!r}")

    def prob(vec: np.ndarray | None, name: str) -> np.ndarray:
        if vec is None:
            return np.full(n, 1.0 / n)
        a = np.asarray(vec, dtype=np.float64)
        if a.shape != (n,):
            raise InvalidParametersError(f"{name} must have shape ({n},), got {a.shape}")
        if not np.isfinite(a).all() or (a < 0).any():
            raise InvalidParametersError(f"{name} must be finite and >= 0")
        total = a.sum()
        if total <= 0:
            raise InvalidParametersError(f"{name} must have a positive sum")
        return a / total

    # a uniform teleport is held in one element (``tstep`` 0): fresh memory costs page faults
    t = np.full(1, 1.0 / n) if teleport is None else prob(teleport, "teleport")
    tstep = 0 if teleport is None else 1
    x = prob(x0, "x0") if x0 is not None else np.full(n, 1.0 / n) if teleport is None else t.copy()
    if out_scale is None:
        scale = np.empty(n, dtype=np.float64)  # filled by _start (one pass, no temporaries)
    else:
        scale = np.asarray(out_scale, dtype=np.float64)
        if scale.shape != (n,) or not np.isfinite(scale).all() or (scale < 0).any():
            raise InvalidParametersError(f"out_scale must be finite, >= 0, shape ({n},)")
        if (scale * graph.out_weight > 1.0 + 1e-9).any():
            raise InvalidParametersError("out_scale * out_weight must be <= 1 (rank cannot be created)")
    bounds = _row_bounds(graph.indptr, _ROW_CHUNKS)
    n_chunks = len(bounds) - 1
    n_blocks = 1 if method == "jacobi" else min(_BLOCKS, n_chunks)
    blocks = (np.arange(n_blocks + 1) * n_chunks) // n_blocks
    d = float(damping)
    ow = np.ascontiguousarray(graph.out_weight, dtype=np.float64)
    y = np.empty(n, dtype=np.float32)
    flow = float(_start(x, scale, ow, d, y, out_scale is None))
    xnew = np.empty(n, dtype=np.float64)
    residual = np.inf
    it = 0
    workers = numba.get_num_threads()
    pace = _Pace(graph.nnz >= PARALLEL_MIN_EDGES and workers > 1)
    wt = graph.weights
    # indptr read as uint64: the edge index in the gather needs no negative-index wraparound
    ip = np.ascontiguousarray(graph.indptr, dtype=np.int64).view(np.uint64)
    indices = graph.indices.view(np.uint32)
    part = np.zeros(n_chunks, dtype=np.float64)
    fpart = np.zeros(2 * n_chunks, dtype=np.float64)
    counter = np.zeros(16, dtype=np.int64)  # the chunk counter, alone on its cache line
    claims = {True: np.zeros(workers, dtype=np.int64), False: np.zeros(1, dtype=np.int64)}
    rows = bounds[blocks]  # first row of each block
    work = (graph.indptr[rows[1:]] - graph.indptr[rows[:-1]]) + np.diff(rows)  # edges + rows per block
    while it < int(max_iter):
        beta = 1.0 - flow
        for b in range(n_blocks):
            par = pace.pick()
            kernel = _block_par if par else _block_ser
            cl = claims[par]
            t0 = time.perf_counter()
            c0, c1 = blocks[b], blocks[b + 1]
            kernel(ip, indices, wt, y, xnew, t, tstep, beta, d, bounds, c0, c1, part, counter, cl)
            pace.record(par, time.perf_counter() - t0, float(work[b]), cl.min() * len(cl) / max(1, cl.sum()))
            if b + 1 < n_blocks:  # this block's new values, read by the blocks after it
                _publish(xnew, scale, y, rows[b], rows[b + 1])
        par = pace.pick() if it else pace.parallel  # the first finish runs (loads) the parallel kernel
        finish = _finish_par if par else _finish_ser
        residual, flow = finish(xnew, x, scale, ow, d, y, part, bounds, fpart, counter, workers if par else 1)
        it += 1
        if residual < tol:
            break
    return x, it, float(residual)
