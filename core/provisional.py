"""Provisional scores of the integrity versions (v3) between full passes.

The full pass (:func:`core.scoring.score_population`) solves the whole graph: trust seeds, the rank
every account relays, the cap of one engager's contribution, the calibration table. Between passes
a new or changed profile is scored from its own in-neighbourhood with what the last pass stored:

* per engager ``u`` of one of the profile's accounts ``a``: its relayed rank in raw units
  ``X_u = unit * x_u``, how established it is (``passing_u``) and its out-weight now ``s_u`` (the
  pass's, plus the pairs that changed since); the pair's decayed count and the reverse pair's;
* the pass's ``cap`` and calibration table.

The per-profile rules of :mod:`core.integrity` then apply exactly as in the full pass: mutual
engagement cancels (``count ** p - min(count, reverse) ** p``), the flow ``d * w * passing_u /
(s_u + k) * X_u``, the soft cap and the breadth factor, the volume divisor of amplification, the
calibration table, the ceiling per distinct engager, and the band by reach for a profile without
engagement.

Where it differs from the next full pass (measured in ``tests/core/test_provisional.py`` and
``docs/algorithm.md``): the engagers' ranks are those of the last pass (plus the authors recomputed
since), so a change reaches the accounts two steps away only at the next pass; an account first seen
after the pass relays nothing yet unless its reported creation time makes it established
(:func:`new_account_passing`) and is no trust seed; the cap and the calibration table are the pass's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import integrity, model
from core.calibration import CalibrationTable, apply_calibration
from core.errors import InvalidParametersError
from core.versions import AlgorithmParams

__all__ = ["AccountPoints", "account_points", "has_history", "new_account_passing", "profile_score"]

DAY = model.DAY


@dataclass(frozen=True)
class AccountPoints:
    """What one account's engagement is worth under the integrity rules (raw units).

    Attributes
    ----------
    raw : float
        ``amplification + network_impact`` (what the profile's raw adds up).
    amplification, network_impact : float
        The two engagement signals (amplification already divided by the volume factor).
    engagers : int
        Distinct engagers with a positive flow (the ceiling counts them).
    inflow : float
        Rank received (before the cap): the account relays ``tele + inflow``.
    effective_engagers : float
        ``(sum f) ** 2 / sum f ** 2`` of the capped contributions.
    """

    raw: float
    amplification: float
    network_impact: float
    engagers: int
    inflow: float
    effective_engagers: float


def _rules(params: AlgorithmParams) -> integrity.IntegrityParams:
    if params.integrity is None:
        raise InvalidParametersError(f"{params.name} has no integrity rules: provisional scores are for v3")
    return params.integrity


def account_points(
    count: np.ndarray,
    reverse: np.ndarray,
    amp_count: np.ndarray,
    x: np.ndarray,
    passing: np.ndarray,
    out_weight: np.ndarray,
    posts: float,
    params: AlgorithmParams,
    cap: float,
) -> AccountPoints:
    """Engagement points of one account from its in-pairs (one entry per distinct engager).

    Parameters
    ----------
    count, reverse, amp_count : ndarray
        Decayed, type-weighted count of each pair now, of the reverse pair (the account engaging the
        engager), and the amplification part of ``count``.
    x, passing, out_weight : ndarray
        Each engager's relayed rank in raw units, how established it is, its out-weight now
        (pre-discount pair weights, as the full pass's selectivity counts them).
    posts : float
        The account's standalone posts (volume divisor of its amplification).
    params : AlgorithmParams
        An integrity version.
    cap : float
        The full pass's contribution cap (:func:`core.integrity.cap_level`).

    Examples
    --------
    >>> from core.versions import get_version
    >>> p = get_version("v3")
    >>> one = account_points(np.array([1.0]), np.array([0.0]), np.array([0.0]), np.array([5.0]),
    ...                      np.array([1.0]), np.array([1.0]), 0.0, p, 10.0)
    >>> swap = account_points(np.array([1.0]), np.array([1.0]), np.array([0.0]), np.array([5.0]),
    ...                       np.array([1.0]), np.array([1.0]), 0.0, p, 10.0)
    >>> one.engagers, one.raw > 0, swap.raw  # a like-for-like swap earns nothing
    (1, True, 0.0)
    """
    rules = _rules(params)
    count = np.asarray(count, dtype=np.float64)
    if len(count) == 0:
        return AccountPoints(0.0, 0.0, 0.0, 0, 0.0, 0.0)
    w = integrity.mutual_discounted_weights(
        count, np.asarray(reverse, np.float64), params.pair_exponent, rules.reciprocity
    )
    own = model.pair_weights(count, params.pair_exponent)
    # an engager with no stored out-row has at least this pair
    s = np.maximum(np.asarray(out_weight, dtype=np.float64), own)
    scale = model.out_scale(s, np.asarray(passing, dtype=np.float64), params.selectivity_k)
    flow = params.damping * w.astype(np.float64) * scale * np.asarray(x, dtype=np.float64)
    amp_frac = model.amplification_share(np.asarray(amp_count, dtype=np.float64), count)
    vol = np.array([model.volume_divisor(float(posts), params)])
    row = np.zeros(len(count), dtype=np.int64)
    _, amp, impact, neff, _ = integrity.engagement_points(
        row, flow, amp_frac, vol, float(cap), rules.breadth_k
    )
    return AccountPoints(
        raw=float(amp[0] + impact[0]),
        amplification=float(amp[0]),
        network_impact=float(impact[0]),
        engagers=int((flow > 0).sum()),
        inflow=float(flow.sum()),
        effective_engagers=float(neff[0]),
    )


def profile_score(
    raw: float, engagers: int, followers: float, params: AlgorithmParams, table: CalibrationTable
) -> float:
    """A profile's score from its raw and distinct engagers, as the full pass gives it: the
    calibrated raw under the ceiling of its engagers, or the band by reach without engagement.

    Examples
    --------
    >>> from core.versions import get_version
    >>> t = CalibrationTable(np.array([0.0, 1.0, 10.0]), np.array([19.9, 20.0, 90.0]))
    >>> p = get_version("v3")
    >>> round(profile_score(10.0, 1, 0.0, p, t), 2), round(profile_score(10.0, 30, 0.0, p, t), 2)
    (23.0, 90.0)
    >>> round(profile_score(0.0, 0, 1000.0, p, t), 2)
    17.73
    """
    rules = _rules(params)
    if raw > 0:
        calibrated = apply_calibration(np.array([raw]), table)
        return float(integrity.breadth_ceiling(calibrated, np.array([max(engagers, 1)]), rules)[0])
    return float(integrity.band_scores(np.array([followers]), rules)[0])


def new_account_passing(created: float, now: float, timed: bool, params: AlgorithmParams) -> float:
    """How established an account first seen after the full pass is (what it relays), as the next
    pass will judge it: with a history of engagement times (``timed``) its first-seen time is recent,
    so only a reported creation time can establish it; without one, every account is established
    unless its creation time says it is young.

    Examples
    --------
    >>> from core.versions import get_version
    >>> p, now = get_version("v3"), 1000 * DAY
    >>> new_account_passing(float("nan"), now, True, p), new_account_passing(now - 400 * DAY, now, True, p)
    (0.0, 1.0)
    >>> new_account_passing(float("nan"), now, False, p), new_account_passing(now - DAY, now, False, p)
    (1.0, 0.0)
    """
    rules = _rules(params)
    seen = np.array([now if timed else np.inf])
    coverage, history = (1.0, np.inf) if timed else (0.0, 0.0)
    est = integrity.established_weights(
        seen, np.array([created], dtype=np.float64), now, coverage, rules, history
    )
    return float(est[0])


def has_history(ts: np.ndarray, params: AlgorithmParams) -> bool:
    """Whether the engagement times of a population are evidence of when accounts appeared (as the
    full pass decides it: enough rows carry a time and they span a full establishment ramp).

    Examples
    --------
    >>> from core.versions import get_version
    >>> v3 = get_version("v3")
    >>> has_history(np.array([0.0, 100 * DAY]), v3), has_history(np.array([0.0]), v3)
    (True, False)
    """
    rules = _rules(params)
    ts = np.asarray(ts, dtype=np.float64)
    times = ts[np.isfinite(ts)]
    coverage = len(times) / len(ts) if len(ts) else 0.0
    history = float(times.max() - times.min()) / DAY if len(times) else 0.0
    return coverage >= rules.time_coverage_min and history >= rules.established_full_days
