"""Influence rank: personalised, weighted PageRank by pull-based power iteration.

Given the in-adjacency ``A`` (row ``v`` lists the engagers ``u`` of ``v`` with weights ``w_uv``) and a
per-node out-scale ``c_u`` (default ``1 / out_weight_u``, 0 for nodes that give nothing), one pass is

    y_u     = c_u * x_u                              (float32, the gathered vector)
    f_v     = damping * sum_u w_uv * y_u             (rank flowing along engagements)
    x'_v    = f_v + (1 - sum(f)) * t_v               (the rest teleports, proportionally to t)

so ``x`` stays a probability vector; mass that does not flow (dangling nodes, and the leak of the
out-row normalisation when ``c_u * out_weight_u < 1``) is redistributed by the teleport ``t``. It stops
when the L1 change ``sum |x' - x|`` is below ``tol``. Rows are reduced by one thread each (no atomics)
over a fixed partition of the rows into 64 chunks of equal cost, handed out to the threads dynamically
(robust when another process holds a core); partial sums are added in chunk order, so results do
not depend on the thread count or scheduling. Graphs under ``PARALLEL_MIN_EDGES`` edges run the same
kernels compiled without ``parallel``.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from core.errors import InvalidParametersError
from core.graph import CSRGraph

__all__ = ["default_out_scale", "influence_rank"]

_ROW_CHUNKS = 64
_BLOCKS = 8


def _pull_impl(indptr, indices, weights, y, out, damping, bounds):  # pragma: no cover - compiled
    n_chunks = len(bounds) - 1
    partial = np.zeros(n_chunks, np.float64)
    for c in prange(n_chunks):
        acc = 0.0
        for v in range(bounds[c], bounds[c + 1]):
            s = 0.0
            for j in range(indptr[v], indptr[v + 1]):
                s += weights[j] * y[indices[j]]
            f = damping * s
            out[v] = f
            acc += f
        partial[c] = acc
    total = 0.0
    for c in range(n_chunks):
        total += partial[c]
    return total


def _finish_impl(out, x, t, scale, y, beta, bounds):  # pragma: no cover - compiled
    n_chunks = len(bounds) - 1
    partial = np.zeros(n_chunks, np.float64)
    for c in prange(n_chunks):
        acc = 0.0
        for v in range(bounds[c], bounds[c + 1]):
            nv = out[v] + beta * t[v]
            acc += abs(nv - x[v])
            x[v] = nv
            y[v] = np.float32(nv * scale[v])
        partial[c] = acc
    res = 0.0
    for c in range(n_chunks):
        res += partial[c]
    return res


def _sweep_impl(
    indptr, indices, weights, y, ybuf, x, t, scale, beta, damping, bounds, blocks
):  # pragma: no cover
    # Block Gauss-Seidel: blocks of row chunks in order; rows of block b read the new values of the
    # blocks before b. Within a block, rows read ``y`` and write ``x``/``ybuf`` only (race-free); the
    # block's new values are copied into ``y`` after it, before the next block starts.
    n_chunks = len(bounds) - 1
    part_f = np.zeros(n_chunks, np.float64)
    part_r = np.zeros(n_chunks, np.float64)
    for b in range(len(blocks) - 1):
        for c in prange(blocks[b], blocks[b + 1]):
            acc_f = 0.0
            acc_r = 0.0
            for v in range(bounds[c], bounds[c + 1]):
                s = 0.0
                for j in range(indptr[v], indptr[v + 1]):
                    s += weights[j] * y[indices[j]]
                f = damping * s
                acc_f += f
                nv = f + beta * t[v]
                acc_r += abs(nv - x[v])
                x[v] = nv
                ybuf[v] = np.float32(nv * scale[v])
            part_f[c] = acc_f
            part_r[c] = acc_r
        for c in prange(blocks[b], blocks[b + 1]):
            for v in range(bounds[c], bounds[c + 1]):
                y[v] = ybuf[v]
    total = 0.0
    res = 0.0
    for c in range(n_chunks):
        total += part_f[c]
        res += part_r[c]
    return total, res


@njit(cache=True)
def _normalised_change(x, prev, a, b):  # pragma: no cover - compiled
    acc = 0.0
    for v in range(len(x)):
        acc += abs(x[v] * a - prev[v] * b)
    return acc


_sweep_par = njit(parallel=True, cache=True)(_sweep_impl)
_sweep_ser = njit(cache=True)(_sweep_impl)
_pull_par = njit(parallel=True, cache=True)(_pull_impl)
_finish_par = njit(parallel=True, cache=True)(_finish_impl)
_pull_ser = njit(cache=True)(_pull_impl)
_finish_ser = njit(cache=True)(_finish_impl)

#: Graphs with fewer edges are solved on one thread (a parallel region costs more than it saves).
PARALLEL_MIN_EDGES = 1_000_000


def _row_bounds(indptr: np.ndarray, n_chunks: int) -> np.ndarray:
    n = len(indptr) - 1
    m = int(indptr[-1])
    # balance rows + edges so that chunks of many empty rows are not starved either
    cost = indptr[1:] + np.arange(1, n + 1)
    targets = (np.arange(1, n_chunks) * (m + n)) // n_chunks
    inner = np.searchsorted(cost, targets, side="left") + 1
    bounds = np.concatenate([[0], np.minimum(inner, n), [n]]).astype(np.int64)
    return np.maximum.accumulate(bounds)


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
    method: str = "jacobi",
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
        ``jacobi`` (default): every pass reads the previous pass's ranks. ``gauss-seidel``: solves the
        linear system ``x = d A^T (c x) + beta t`` with ``beta`` fixed at the teleport mass of the
        start vector (its solution is a multiple of the fixed point; renormalised at the end), rows
        swept in 8 blocks, each block reading the ranks already updated by the blocks before it;
        the change is the L1 change of the normalised vector.

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

    t = prob(teleport, "teleport")
    x = prob(x0, "x0") if x0 is not None else t.copy()
    if out_scale is None:
        scale = default_out_scale(graph)
    else:
        scale = np.asarray(out_scale, dtype=np.float64)
        if scale.shape != (n,) or not np.isfinite(scale).all() or (scale < 0).any():
            raise InvalidParametersError(f"out_scale must be finite, >= 0, shape ({n},)")
        if (scale * graph.out_weight > 1.0 + 1e-9).any():
            raise InvalidParametersError("out_scale * out_weight must be <= 1 (rank cannot be created)")
    bounds = _row_bounds(graph.indptr, min(_ROW_CHUNKS, n))
    y = (x * scale).astype(np.float32)
    out = np.empty(n, dtype=np.float64)
    residual = np.inf
    it = 0
    d = float(damping)
    parallel = graph.nnz >= PARALLEL_MIN_EDGES and numba.get_num_threads() > 1
    pull, finish = (_pull_par, _finish_par) if parallel else (_pull_ser, _finish_ser)
    sweep = _sweep_par if parallel else _sweep_ser
    n_chunks = len(bounds) - 1
    blocks = np.linspace(0, n_chunks, min(_BLOCKS, n_chunks) + 1).astype(np.int64)
    old_chunk = numba.set_parallel_chunksize(1) if parallel else 0  # hand out row chunks dynamically
    try:
        if method == "jacobi":
            while it < int(max_iter):
                total = pull(graph.indptr, graph.indices, graph.weights, y, out, d, bounds)
                residual = finish(out, x, t, scale, y, 1.0 - total, bounds)
                it += 1
                if residual < tol:
                    break
        else:
            # the linear system x = d A^T (c x) + beta t with beta fixed (the teleport mass of x0); its
            # solution is a multiple of the normalised fixed point (renormalised at the end)
            ybuf = y.copy()
            beta = 1.0 - d * float(np.dot(graph.out_weight * scale, x))
            prev = x.copy()
            prev_sum = 1.0
            while it < int(max_iter):
                prev[:] = x
                total, _ = sweep(
                    graph.indptr, graph.indices, graph.weights, y, ybuf, x, t, scale, beta, d, bounds, blocks
                )
                new_sum = total + beta
                residual = _normalised_change(x, prev, 1.0 / new_sum, 1.0 / prev_sum)
                prev_sum = new_sum
                it += 1
                if residual < tol:
                    break
            x /= x.sum()
    finally:
        if parallel:
            numba.set_parallel_chunksize(old_chunk)
    return x, it, float(residual)
