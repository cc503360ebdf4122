"""Rank flowing along engagements: the pull and the inflow kernels shared by the single-machine and the
partitioned solves (validating public functions, each with its ``@njit(cache=True)`` kernel).

With the in-adjacency ``A`` (row ``v``: the engagers ``u`` of ``v`` and the float32 pair weights
``w_uv``), damping ``d`` and a per-engager value:

* :func:`pull`: ``f_v = d * sum_u w_uv * y_u`` with ``y`` float32 (``y_u = float32(scale_u * x_u)``): one
  Jacobi pass of the partitioned solve;
* :func:`inflows`: ``inflow_v = sum_u d * w_uv * a_u * b_u`` (float64) and its amplification part
  ``sum_u d * w_uv * a_u * b_u * amp_frac_uv``: the components of the converged ranks (the core passes
  ``a = scale``, ``b = x``; the partitioned solve ``a = scale * x`` of its halo and ``b = 1``).

Rows are reduced by one thread each, in engager order: results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from core.errors import InvalidParametersError

__all__ = ["inflows", "pull"]


@njit(parallel=True, cache=True)
def _pull(indptr, indices, weights, y, damping):  # pragma: no cover - compiled
    n = len(indptr) - 1
    out = np.empty(n, np.float64)
    for v in prange(n):
        s = 0.0
        for j in range(indptr[v], indptr[v + 1]):
            s += weights[j] * y[indices[j]]
        out[v] = damping * s
    return out


@njit(parallel=True, cache=True)
def _inflows(indptr, indices, weights, amp_frac, a, b, damping):  # pragma: no cover - compiled
    n = len(indptr) - 1
    inflow = np.zeros(n, np.float64)
    inflow_amp = np.zeros(n, np.float64)
    for v in prange(n):
        s = 0.0
        t = 0.0
        for j in range(indptr[v], indptr[v + 1]):
            u = indices[j]
            f = damping * np.float64(weights[j]) * a[u] * b[u]
            s += f
            t += f * amp_frac[j]
        inflow[v] = s
        inflow_amp[v] = t
    return inflow, inflow_amp


def _check_rows(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, width: int) -> None:
    if indptr.ndim != 1 or len(indptr) < 1 or indices.shape != weights.shape:
        raise InvalidParametersError("indptr must be 1-D; indices and weights of equal shape")
    if int(indptr[-1]) != len(indices):
        raise InvalidParametersError("indptr[-1] must equal the number of edges")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= width):
        raise InvalidParametersError(f"engager indices must lie in [0, {width})")


def pull(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, y: np.ndarray, damping: float
) -> np.ndarray:
    """``f_v = damping * sum_j weights[j] * y[indices[j]]`` over each row ``v`` (float32 products,
    float64 sums).

    Parameters
    ----------
    indptr : ndarray of int64, shape (rows + 1,)
    indices : ndarray of int32
        Engager (index into ``y``) of each in-edge.
    weights : ndarray of float32
        Pair weight of each in-edge.
    y : ndarray of float32
        Out-scaled rank of each engager.
    damping : float

    Returns
    -------
    ndarray of float64, shape (rows,)

    Examples
    --------
    >>> pull(np.array([0, 2, 2]), np.array([0, 1], np.int32), np.array([1.0, 2.0], np.float32),
    ...      np.array([0.5, 0.25], np.float32), 0.5).tolist()
    [0.5, 0.0]
    """
    _check_rows(indptr, indices, weights, len(y))
    return _pull(indptr, indices, weights, y, float(damping))


def inflows(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    amp_frac: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    damping: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Rank flowing into each row, and its amplification part (float64 throughout).

    ``inflow_v = sum_j damping * weights[j] * a[u] * b[u]`` (``u = indices[j]``, in this order of
    multiplication) and ``inflow_amp_v = sum_j (...) * amp_frac[j]``.

    Examples
    --------
    >>> f, fa = inflows(np.array([0, 2]), np.array([0, 1], np.int32), np.array([1.0, 1.0], np.float32),
    ...                 np.array([1.0, 0.0]), np.array([0.5, 0.5]), np.array([1.0, 1.0]), 1.0)
    >>> f.tolist(), fa.tolist()
    ([1.0], [0.5])
    """
    _check_rows(indptr, indices, weights, min(len(a), len(b)))
    if amp_frac.shape != indices.shape:
        raise InvalidParametersError("amp_frac must have one entry per edge")
    return _inflows(indptr, indices, weights, amp_frac, a, b, float(damping))
