"""The numeric part of the partitioned solve, on plain numpy arrays (no storage): what each task of
the Distributed Map computes for its partition. ``functions/rescore/partitioned_solve.py`` moves the arrays
through S3 and calls these; the model's steps come from :mod:`core.model` and :mod:`core.flow`.

A partition owns a contiguous range ``[lo, hi)`` of accounts (the rows: authors) and reads the ranks of
the engagers of its rows, its *halo* (global account indices, ascending). One Jacobi pass of the
core's solve, per partition::

    y  = float32(P + beta * C)        halo values: P = f * scale of the previous pass, C = t * scale
    f  = damping * A^T y              :func:`iterate_rows` (:func:`core.flow.pull`)
    x  = f + beta * t                 own ranks; beta = 1 - sum of every partition's f

See the module docstring of ``functions/rescore/partitioned_solve.py`` for the exchange and the
convergence check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import model
from core.errors import InvalidParametersError
from core.flow import inflows, pull
from core.graph import aggregate_pairs
from core.versions import AlgorithmParams

__all__ = [
    "PartitionRows",
    "build_rows",
    "convergence",
    "global_scalars",
    "iterate_rows",
    "partition_components",
    "setup_rows",
]


@dataclass(frozen=True)
class PartitionRows:
    """A partition's aggregated in-adjacency and per-account model terms (:func:`build_rows`).

    Attributes
    ----------
    indptr : ndarray of int64 (rows + 1)
    indices : ndarray of int32
        Engager of each pair, as a position in ``halo``.
    weights : ndarray of float32
        Pair weights.
    amp_frac : ndarray of float64
        Amplification share of each pair.
    pair_nodecay : ndarray of float64
        Pair counts without decay (for the explanations).
    halo : ndarray of int64
        Global index of the engagers the rows read, ascending.
    out_partial : ndarray of float64
        Out-weight each halo engager gives to these rows.
    fresh : ndarray of bool
        Fresh flags of the rows' accounts.
    tele_raw : ndarray of float64
        Unnormalised teleport weights of the rows' accounts.
    volume : ndarray of float64
        Volume divisors of the rows' accounts.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    amp_frac: np.ndarray
    pair_nodecay: np.ndarray
    halo: np.ndarray
    out_partial: np.ndarray
    fresh: np.ndarray
    tele_raw: np.ndarray
    volume: np.ndarray


def build_rows(
    g: dict[str, np.ndarray], lo: int, cand_all: np.ndarray, params: AlgorithmParams, now: float
) -> PartitionRows:
    """Aggregate a partition's engagement rows into its pairs and compute its accounts' model terms.

    Parameters
    ----------
    g : dict of str to ndarray
        The partition's engagement rows (``src``: global engager index, ``dst``: author index local to
        the partition, ``weight``, ``etype``, ``ts``; input order) and accounts (``followers``, ``posts``).
    lo : int
        Global index of the partition's first account.
    cand_all : ndarray of bool
        :func:`core.model.fresh_candidates` of every account of the population.
    params : AlgorithmParams
    now : float

    Returns
    -------
    PartitionRows

    Examples
    --------
    >>> from core.versions import get_version
    >>> g = {"src": np.array([2, 3, 2]), "dst": np.array([0, 0, 1]), "weight": np.ones(3),
    ...      "etype": np.zeros(3, np.uint8), "ts": np.zeros(3), "followers": np.zeros(2),
    ...      "posts": np.zeros(2)}
    >>> rows = build_rows(g, 0, np.zeros(4, bool), get_version("v1"), 0.0)
    >>> rows.halo.tolist(), rows.indptr.tolist(), rows.out_partial.tolist()
    ([2, 3], [0, 2, 3], [2.0, 1.0])
    """
    n_p = len(g["followers"])
    keep = g["src"] != g["dst"] + lo
    counts, amp_counts, base = model.decayed_counts(g["weight"], g["etype"], g["ts"], params, now)
    vals = np.stack([counts, amp_counts, base], axis=1)[keep]
    halo, src_local = np.unique(g["src"][keep], return_inverse=True)
    width = max(n_p, len(halo), 1)
    indptr, indices, sums = aggregate_pairs(src_local, g["dst"][keep], vals, width)
    indptr = indptr[: n_p + 1].copy()
    pair_count = sums[:, 0]
    w32 = model.pair_weights(pair_count, params.pair_exponent)
    amp_frac = model.amplification_share(sums[:, 1], pair_count)
    out_partial = np.bincount(indices, weights=w32.astype(np.float64), minlength=len(halo))
    fresh = model.fresh_flags(cand_all[lo : lo + n_p], indptr, cand_all[halo[indices]], w32)
    return PartitionRows(
        indptr=indptr,
        indices=indices.astype(np.int32),
        weights=w32,
        amp_frac=amp_frac,
        pair_nodecay=sums[:, 2],
        halo=halo.astype(np.int64),
        out_partial=out_partial,
        fresh=fresh,
        tele_raw=model.teleport_weights(g["followers"], fresh, params),
        volume=model.volume_divisors(g["posts"], params),
    )


def global_scalars(accounts: int, builds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The solve's global scalars from the partitions' build results (``partition``, ``tele_sum``,
    ``fresh``): the teleport normaliser (summed exactly, in partition order), the fresh count and the
    raw-influence unit (accounts that are not fresh, at least 1).

    Examples
    --------
    >>> global_scalars(10, [{"partition": 1, "tele_sum": 0.5, "fresh": 1},
    ...                     {"partition": 0, "tele_sum": 1.5, "fresh": 0}])
    {'tele_sum': 2.0, 'unit': 9.0, 'fresh': 1}
    """
    tele_sum = math.fsum(b["tele_sum"] for b in sorted(builds, key=lambda b: b["partition"]))
    fresh = sum(int(b["fresh"]) for b in builds)
    return {"tele_sum": tele_sum, "unit": float(max(1, accounts - fresh)), "fresh": fresh}


def setup_rows(
    out_weight: np.ndarray, fresh: np.ndarray, tele_raw: np.ndarray, tele_sum: float, params: AlgorithmParams
) -> dict[str, np.ndarray]:
    """Out-scale, passing factors and normalised teleport of a partition's accounts.

    Examples
    --------
    >>> from core.versions import get_version
    >>> s = setup_rows(np.array([1.0, 0.0]), np.zeros(2, bool), np.array([1.0, 3.0]), 4.0,
    ...                get_version("v1"))
    >>> s["scale"].tolist(), s["teleport"].tolist()
    ([0.5, 0.0], [0.25, 0.75])
    """
    passing = model.passing_factors(fresh, params)
    scale = model.out_scale(out_weight, passing, params.selectivity_k)
    return {"scale": scale, "teleport": tele_raw / tele_sum, "passing": passing}


def iterate_rows(rows: Any, y: np.ndarray, damping: float) -> np.ndarray:
    """One pass for a partition's rows: ``f = damping * A^T y`` (``rows``: anything with ``indptr``,
    ``indices``, ``weights`` items, e.g. the stored arrays of :class:`PartitionRows`).

    Examples
    --------
    >>> rows = {"indptr": np.array([0, 1]), "indices": np.array([0], np.int32),
    ...         "weights": np.array([2.0], np.float32)}
    >>> iterate_rows(rows, np.array([0.25], np.float32), 0.5).tolist()
    [0.25]
    """
    return pull(rows["indptr"], rows["indices"], rows["weights"], y, damping)


def convergence(
    k: int,
    betas: list[float],
    sums: Sequence[float],
    residuals: Sequence[float] | None,
    params: AlgorithmParams,
) -> dict[str, Any]:
    """The check after pass ``k``: ``beta_k = 1 - sum f`` (summed exactly, in partition order) and
    whether pass ``k - 1`` converged (its residual, reported by pass ``k``, below ``tol``; or the
    passes are spent).

    Examples
    --------
    >>> from core.versions import get_version
    >>> convergence(2, [1.0, 0.5], [0.25, 0.25], [1e-9], get_version("v1"))["final"]
    1
    """
    if k < 1:
        raise InvalidParametersError("passes are numbered from 1")
    beta = 1.0 - math.fsum(sums)
    residual = math.fsum(residuals) if k >= 2 and residuals is not None else None
    done = (residual is not None and residual < params.tol) or k - 1 >= params.max_iter
    return {
        "k": k + 1,
        "betas": [*betas, beta],
        "done": bool(done),
        "final": k - 1 if done else None,
        "residual": residual,
    }


def partition_components(
    rows: Any, z: np.ndarray, teleport: np.ndarray, volume: np.ndarray, unit: float, beta: float,
    params: AlgorithmParams,
) -> np.ndarray:  # fmt: skip
    """Raw components of a partition's accounts at the final iterate: ``z`` is ``scale * x`` of its halo
    (float64), ``beta`` the teleported mass of the pass after the final one (its inflow total).

    Examples
    --------
    >>> from core.versions import get_version
    >>> rows = {"indptr": np.array([0, 1]), "indices": np.array([0], np.int32),
    ...         "weights": np.array([1.0], np.float32), "amp_frac": np.array([0.0])}
    >>> partition_components(rows, np.array([0.5]), np.array([1.0]), np.ones(1), 1.0, 0.5,
    ...                      get_version("v1")).round(3).tolist()
    [[0.25, 0.0, 0.425]]
    """
    inflow, inflow_amp = inflows(
        rows["indptr"], rows["indices"], rows["weights"], rows["amp_frac"], z, np.ones(len(z)),
        float(params.damping),
    )  # fmt: skip
    return model.account_components(inflow, inflow_amp, teleport, volume, unit, beta, params.reach_weight)
