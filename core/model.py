"""The steps of the scoring model, once, for every place that scores (see ``docs/algorithm.md``).

The single-machine solve (:mod:`core.scoring`), the partitioned solve (:mod:`core.partitioned`, driven
through S3 by ``functions/rescore/partitioned_solve.py``) and the live updater
(``functions/ingest/incremental.py``) all take the model from here:

1. :func:`decayed_counts`: ``weight * type_weight * 2 ** (-age_days / half_life_days)`` per engagement;
2. :func:`pair_weights`: a pair's summed count ``** pair_exponent``, as float32; :func:`amplification_share`;
3. :func:`passing_factors` and :func:`out_scale`: engager ``u`` passes ``pass_u / (s_u + selectivity_k)``
   of its rank per unit of pair weight (the selective normalisation);
4. :func:`fresh_candidates` and :func:`fresh_flags` (anti-gaming), :func:`teleport_weights`;
5. :func:`volume_divisors`; :func:`account_components` from the inflows (kernels in :mod:`core.flow`);
6. from ``v3``, the score-integrity rules of :mod:`core.integrity` (established trust, mutual engagement,
   breadth, the calibration population), applied by :func:`core.scoring.score_population`.

Arrays in, arrays out, numpy only (no numba: the score updater imports this module). The stream's
updater works on one DynamoDB item at a time: the ``*_at``/scalar forms below (:func:`decayed_count`,
:func:`pair_weight`, :func:`volume_divisor`, :func:`selective_flow`, :func:`decayed_out_weight`,
:func:`author_components`) are the same formulas in Python float arithmetic. They agree with the array
forms to a few ulp, not bit for bit (numpy's vectorised ``pow``/``exp2`` round differently from libm).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from core.types import ENGAGEMENT_TYPES
from core.versions import AlgorithmParams

__all__ = [
    "DAY",
    "account_components",
    "amplification_share",
    "author_components",
    "decay_factors",
    "decayed_count",
    "decayed_counts",
    "decayed_out_weight",
    "fresh_candidates",
    "fresh_flags",
    "out_scale",
    "pair_weight",
    "pair_weights",
    "passing_factors",
    "selective_flow",
    "teleport_weights",
    "volume_divisor",
    "volume_divisors",
]

#: Seconds per day (the unit of ``half_life_days`` and ``fresh_days``).
DAY = 86400.0


# --- 1. decay and type weights ---------------------------------------------------------------------


def decay_factors(ts: np.ndarray, now: float, half_life_days: float) -> np.ndarray:
    """``2 ** (-age_days / half_life_days)`` per engagement; ages clamp at 0 and a NaN time counts as now.

    Examples
    --------
    >>> decay_factors(np.array([0.0, -30 * DAY, np.nan, DAY]), 0.0, 30.0).tolist()
    [1.0, 0.5, 1.0, 1.0]
    """
    ts = np.asarray(ts, dtype=np.float64)
    age = np.where(np.isnan(ts), 0.0, np.maximum(0.0, now - np.nan_to_num(ts, nan=now)) / DAY)
    return np.exp2(-age / half_life_days)


def decayed_counts(
    weight: np.ndarray, etype: np.ndarray, ts: np.ndarray, params: AlgorithmParams, now: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decayed, type-weighted count of every engagement row.

    Parameters
    ----------
    weight : ndarray of float64
        Multiplicity of each row.
    etype : ndarray of uint8
        Engagement type codes (:data:`core.types.ENGAGEMENT_TYPES`).
    ts : ndarray of float64
        Unix times (NaN: unknown, counts at full weight).
    params : AlgorithmParams
    now : float
        Reference time of the decay.

    Returns
    -------
    counts : ndarray
        ``weight * type_weight * decay``.
    amp_counts : ndarray
        ``counts`` of the amplification types, 0 elsewhere.
    base : ndarray
        ``weight * type_weight`` (the count without decay).

    Examples
    --------
    >>> from core.versions import get_version
    >>> c, a, b = decayed_counts(np.array([2.0, 1.0]), np.array([1, 0], np.uint8),
    ...                          np.array([-14 * DAY, 0.0]), get_version("v1"), 0.0)
    >>> b.tolist(), bool(c[0] == b[0] / 2), bool(a[1] == 0.0)
    ([6.0, 1.0], True, True)
    """
    tw = np.asarray(params.type_weights, dtype=np.float64)[etype]
    base = weight * tw
    counts = base * decay_factors(ts, now, params.half_life_days)
    amp_codes = [ENGAGEMENT_TYPES.index(t) for t in params.amplification_types]
    amp = np.isin(etype, amp_codes)
    return counts, counts * amp, base


def decayed_count(
    count: float, etype: str, t: float, at: float, params: AlgorithmParams, clamp: bool = True
) -> float:
    """Scalar form of :func:`decayed_counts`: ``count`` engagements of type ``etype`` made at time ``t``,
    decayed to ``at`` (with ``clamp``, engagements newer than ``at`` count at full weight; without it
    the exact exponential, so that ``c(t2) = c(t1) * 2 ** (-(t2 - t1) / h)``).

    Examples
    --------
    >>> from core.versions import get_version
    >>> decayed_count(2.0, "share", 0.0, 14 * DAY, get_version("v1"))
    3.0
    """
    age = at - t
    if clamp:
        age = max(0.0, age)
    half_life = params.half_life_days * DAY
    return count * params.type_weights[ENGAGEMENT_TYPES.index(etype)] * 2.0 ** (-age / half_life)


# --- 2. pair weights --------------------------------------------------------------------------------


def pair_weights(pair_count: np.ndarray, exponent: float) -> np.ndarray:
    """Diminishing returns: a pair's summed count ``** pair_exponent``, rounded to float32.

    Examples
    --------
    >>> pair_weights(np.array([4.0, 0.0, 9.0]), 0.5).tolist()
    [2.0, 0.0, 3.0]
    """
    return (pair_count**exponent).astype(np.float32)


def pair_weight(count: float, exponent: float) -> float:
    """Scalar form of :func:`pair_weights` (0 for a count <= 0).

    Examples
    --------
    >>> pair_weight(4.0, 0.5), pair_weight(-1.0, 0.5)
    (2.0, 0.0)
    """
    return float(np.float32(count**exponent)) if count > 0 else 0.0


def amplification_share(amp_count: np.ndarray, pair_count: np.ndarray) -> np.ndarray:
    """Share of each pair's count from amplification types, in [0, 1] (0 for an empty pair).

    Examples
    --------
    >>> amplification_share(np.array([1.0, 0.0, 3.0]), np.array([4.0, 0.0, 2.0])).tolist()
    [0.25, 0.0, 1.0]
    """
    amp_frac = np.zeros(len(pair_count))
    np.divide(amp_count, pair_count, out=amp_frac, where=pair_count > 0)
    np.clip(amp_frac, 0.0, 1.0, out=amp_frac)
    return amp_frac


# --- 3. the selective normalisation ------------------------------------------------------------------


def passing_factors(fresh: np.ndarray, params: AlgorithmParams) -> np.ndarray:
    """``pass_u``: the share of its rank an account passes on (``fresh_out_factor`` if fresh, else 1).

    Examples
    --------
    >>> from core.versions import get_version
    >>> passing_factors(np.array([False, True]), get_version("v1")).tolist()
    [1.0, 0.05]
    """
    return np.where(fresh, params.fresh_out_factor, 1.0)


def out_scale(out_weight: np.ndarray, passing: np.ndarray, selectivity_k: float) -> np.ndarray:
    """Out-scale ``pass_u / (s_u + selectivity_k)`` per engager (0 for one that gives nothing).

    Examples
    --------
    >>> out_scale(np.array([1.0, 0.0, 3.0]), np.ones(3), 1.0).tolist()
    [0.5, 0.0, 0.25]
    """
    scale = np.zeros(len(out_weight))
    np.divide(passing, out_weight + selectivity_k, out=scale, where=out_weight > 0)
    return scale


def selective_flow(damping: float, w: float, passing: float, s: float, k: float, x: float) -> float:
    """Scalar rank flow along one pair: ``damping * w * pass_u / (s_u + k) * x_u``.

    Examples
    --------
    >>> selective_flow(0.85, 1.0, 1.0, 1.0, 1.0, 2.0)
    0.85
    """
    return damping * w * passing / (s + k) * x


def decayed_out_weight(
    s0: float, t0: float, now: float, changed: Iterable[tuple[float, float]], params: AlgorithmParams
) -> float:
    """An engager's out-weight ``s_u(now)`` from its out-weight ``s0`` at ``t0`` and the pairs that
    changed since: ``s0 * f ** p + sum(pair_weight(now_count * f) - pair_weight(base_count * f))``,
    ``f = 2 ** (-(now - t0) / half_life)`` (counts referred to ``t0``), at least 0.

    Examples
    --------
    >>> from core.versions import get_version
    >>> decayed_out_weight(2.0, 0.0, 0.0, [(9.0, 4.0)], get_version("v1"))
    3.0
    """
    p = params.pair_exponent
    f = 2.0 ** (-(now - t0) / (params.half_life_days * DAY))
    s = s0 * f**p
    for count, base in changed:
        s += pair_weight(count * f, p) - pair_weight(base * f, p)
    return max(s, 0.0)


# --- 4. anti-gaming and teleport -----------------------------------------------------------------------


def fresh_candidates(
    created: np.ndarray, followers: np.ndarray, params: AlgorithmParams, now: float
) -> np.ndarray:
    """Accounts that may be fresh: created less than ``fresh_days`` ago with at most
    ``fresh_max_followers`` followers (an unknown creation time is not fresh).

    Examples
    --------
    >>> from core.versions import get_version
    >>> fresh_candidates(np.array([0.0, np.nan, -1e9]), np.zeros(3), get_version("v2"), 0.0).tolist()
    [True, False, False]
    """
    return (
        np.isfinite(created)
        & (now - np.nan_to_num(created, nan=-np.inf) < params.fresh_days * DAY)
        & (followers <= params.fresh_max_followers)
    )


def fresh_flags(
    cand: np.ndarray, indptr: np.ndarray, engager_cand: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Fresh accounts: candidates that no established (non-candidate) engager engages with.

    Parameters
    ----------
    cand : ndarray of bool, shape (rows,)
        :func:`fresh_candidates` of the rows (authors).
    indptr : ndarray of int64, shape (rows + 1,)
        In-adjacency of the rows.
    engager_cand : ndarray of bool
        Candidate flag of each in-edge's engager.
    weights : ndarray of float32
        Pair weight of each in-edge (an edge of weight 0 does not count).

    Examples
    --------
    >>> fresh_flags(np.array([True, True]), np.array([0, 1, 2]), np.array([False, True]),
    ...             np.ones(2, np.float32)).tolist()
    [False, True]
    """
    n = len(cand)
    row = np.repeat(np.arange(n), np.diff(indptr))
    established_in = (~engager_cand) & (weights > 0)
    has_established_in = np.bincount(row, weights=established_in, minlength=n) > 0
    return cand & ~has_established_in


def teleport_weights(followers: np.ndarray, fresh: np.ndarray, params: AlgorithmParams) -> np.ndarray:
    """Unnormalised teleport weights: ``log1p(followers) + teleport_eps``, times
    ``fresh_teleport_factor`` for fresh accounts.

    Examples
    --------
    >>> from core.versions import get_version
    >>> t = teleport_weights(np.array([0.0, np.e - 1]), np.array([False, False]), get_version("v1"))
    >>> bool(t[1] - t[0] == 1.0)
    True
    """
    return (np.log1p(followers) + params.teleport_eps) * np.where(fresh, params.fresh_teleport_factor, 1.0)


# --- 5. volume and components ----------------------------------------------------------------------


def volume_divisors(posts: np.ndarray, params: AlgorithmParams) -> np.ndarray:
    """Divisor of each account's amplification: ``max(1, ((1 + posts) / (1 + volume_ref_posts)) **
    volume_alpha)``, 1 for accounts without posts.

    Examples
    --------
    >>> from core.versions import get_version
    >>> volume_divisors(np.array([0.0, 5.0, 43.0]), get_version("v1")).tolist()
    [1.0, 1.0, 2.0]
    """
    vol = np.ones(len(posts))
    posted = posts > 0
    vol[posted] = np.maximum(
        1.0, ((1.0 + posts[posted]) / (1.0 + params.volume_ref_posts)) ** params.volume_alpha
    )
    return vol


def volume_divisor(posts: float, params: AlgorithmParams) -> float:
    """Scalar form of :func:`volume_divisors`.

    Examples
    --------
    >>> from core.versions import get_version
    >>> volume_divisor(43.0, get_version("v1")), volume_divisor(0.0, get_version("v1"))
    (2.0, 1.0)
    """
    if posts <= 0:
        return 1.0
    return max(1.0, ((1.0 + posts) / (1.0 + params.volume_ref_posts)) ** params.volume_alpha)


def account_components(
    inflow: np.ndarray,
    inflow_amp: np.ndarray,
    teleport: np.ndarray,
    volume: np.ndarray,
    unit: float,
    beta: float,
    reach_weight: float,
) -> np.ndarray:
    """Raw (reach, amplification, network_impact) per account, shape (n, 3):
    ``reach_weight * unit * beta * teleport``, ``unit * inflow_amp / volume`` and
    ``unit * max(inflow - inflow_amp, 0)`` (``beta``: the teleported mass, ``1 - sum(inflow)``).

    Examples
    --------
    >>> account_components(np.array([0.5]), np.array([0.2]), np.array([1.0]), np.array([2.0]),
    ...                    2.0, 0.5, 1.0).tolist()
    [[1.0, 0.2, 0.6]]
    """
    comp = np.empty((len(inflow), 3))
    comp[:, 0] = reach_weight * unit * beta * teleport
    comp[:, 1] = unit * inflow_amp / volume
    comp[:, 2] = unit * np.maximum(inflow - inflow_amp, 0.0)
    return comp


def author_components(
    tele: float, inflow: float, inflow_amp: float, vol: float, reach_weight: float
) -> tuple[float, float, float]:
    """Scalar form of :func:`account_components` in raw units (``tele = unit * beta * t``).

    Examples
    --------
    >>> author_components(1.0, 0.5, 0.2, 2.0, 1.0)
    (1.0, 0.1, 0.3)
    """
    return reach_weight * tele, inflow_amp / vol, max(inflow - inflow_amp, 0.0)
