"""Score integrity: the rules that keep one engagement, a farm, a ring or a swap from buying a score.

These are the steps of the model that version ``v3`` adds to the influence rank (``docs/algorithm.md``,
"Score integrity"); each is motivated by an attack measured in ``renown evaluate``:

1. **Established accounts carry trust** (TrustRank / SybilRank: trust seeded from established accounts).
   An account is *established* by evidence an attacker cannot produce after the fact: the time of its
   first engagement (given or received) in the data, and its creation time when a network reports it.
   The weight ramps from 0 (first seen, or created, less than ``established_min_days`` ago) to 1
   (more than ``established_full_days``); a reported creation time counts as much as the history
   (accounts cannot be created in the past). Trust starts (teleport) only at accounts with a full
   history (:func:`trust_seeds`), and an account passes on the rank it received in proportion to how
   established it is, so a farm, a ring or a pod of new or newly active accounts has no rank to give,
   however many there are. Follower counts never make an
   account established (they are bought). When the data carries no times at all, every account is
   established (nothing tells them apart; the account metadata still can).
2. **Mutual engagement cancels** (Collusionrank): the weight of a pair is
   ``count ** p - reciprocity * min(count, reverse count) ** p``: a like-for-like swap, a pod or a ring
   whose members engage each other evenly earns nothing from it; one-sided engagement counts in full.
   An engager's selectivity still counts its engagement before the discount, so the rank a mutual
   exchange no longer carries leaks instead of flowing to the engager's other authors.
3. **Breadth**: each engager's contribution to an author is softly capped at ``tau`` (the
   ``cap_quantile`` of the contributions of established engagers): ``tau * (1 - exp(-f / tau))``. The
   author's engagement raw is the capped sum times ``n / (n + breadth_k)``, ``n`` the effective number
   of engagers ``(sum f)^2 / sum f^2``. One engagement, whoever gives it, is worth little; many
   independent ones are worth a lot.
4. **A ceiling per engager**: whatever its raw, a profile with ``n`` distinct engagers (with a
   positive contribution) scores at most ``score_floor + 3 + ceiling_step * (n - 1)`` (a smooth minimum,
   so no two different profiles tie on it). Losing one engager can then cost at most about
   ``ceiling_step`` points through the ceiling, and one engager alone stays at the floor.
5. **Calibration population**: the 1-100 scale is fitted on established profiles with at least
   ``min_engagers`` distinct engagers (people with an audience), onto ``[score_floor, 100]`` with mean
   40 and P95 63. Profiles with less evidence score between ``band_high`` and the floor; profiles with
   no engagement score in ``[band_low, band_high]`` by follower reach. The fitted table is stored with
   the version and applied as is between full passes, so accounts added later (bots included) never
   rescale anyone.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from core.calibration import CalibrationTable
from core.errors import InvalidParametersError

__all__ = [
    "IntegrityParams",
    "band_scores",
    "breadth",
    "breadth_ceiling",
    "calibration_table",
    "cap_level",
    "engagement_points",
    "established_weights",
    "mutual_discounted_weights",
    "reverse_counts",
    "soft_cap",
    "trust_seeds",
    "unengaged_table",
]

DAY = 86400.0


@dataclass(frozen=True)
class IntegrityParams:
    """Parameters of the integrity rules (see the module docstring).

    Attributes
    ----------
    established_min_days, established_full_days : float
        Age (days since first seen, or since creation when reported) at which an account starts to be,
        and is fully, established (30 and 90).
    time_coverage_min : float
        Share of engagement rows that must carry a time for first-seen times to be used (0.5). Below it,
        or when the times span less than ``established_full_days`` (a history too short to tell old
        accounts from new ones), first-seen times are not evidence and accounts count as established
        unless their creation time says otherwise.
    reciprocity : float
        Share of the mutual part of a pair that cancels (1: a balanced exchange counts zero).
    cap_quantile : float
        Quantile of established engagers' contributions at which one engager's contribution saturates.
    breadth_k : float
        Effective engagers at which the breadth factor is one half (3).
    min_engagers : int
        Distinct engagers a profile needs to be in the calibration population (5).
    score_floor : float
        Lowest score of the calibrated scale (20).
    band_low, band_high : float
        Scores of profiles without engagement: ``band_low`` with no followers, up to ``band_high``.
    band_followers : float
        Followers at which a profile without engagement is 63% of the way up its band (1000).
    ceiling_step : float
        Points each distinct engager adds to a profile's ceiling (6).
    ceiling_softness : float
        Width of the smooth minimum between the calibrated score and the ceiling, in points (1.5).
    """

    established_min_days: float = 30.0
    established_full_days: float = 90.0
    time_coverage_min: float = 0.5
    reciprocity: float = 1.0
    cap_quantile: float = 0.9
    breadth_k: float = 3.0
    min_engagers: int = 5
    score_floor: float = 20.0
    band_low: float = 14.0
    band_high: float = 19.9
    band_followers: float = 1000.0
    ceiling_step: float = 6.0
    ceiling_softness: float = 1.5

    def validate(self) -> IntegrityParams:
        """Return ``self`` or raise :class:`~core.errors.InvalidParametersError`.

        Examples
        --------
        >>> IntegrityParams().validate().min_engagers
        5
        """

        def check(ok: bool, what: str) -> None:
            if not ok:
                raise InvalidParametersError(f"invalid integrity parameter: {what}")

        check(0 <= self.established_min_days < self.established_full_days, "need 0 <= min < full days")
        check(0.0 <= self.time_coverage_min <= 1.0, "time_coverage_min must be in [0, 1]")
        check(0.0 <= self.reciprocity <= 1.0, "reciprocity must be in [0, 1]")
        check(0.0 < self.cap_quantile <= 1.0, "cap_quantile must be in (0, 1]")
        check(self.breadth_k >= 0.0, "breadth_k must be >= 0")
        check(self.min_engagers >= 1, "min_engagers must be >= 1")
        check(1.0 <= self.band_low <= self.band_high < self.score_floor < 40.0, "need 1 <= band < floor < 40")
        check(self.band_followers > 0, "band_followers must be > 0")
        check(self.ceiling_step > 0 and self.ceiling_softness > 0, "ceiling parameters must be > 0")
        return self

    def to_dict(self) -> dict[str, float]:
        """Plain dict of every parameter."""
        return dataclasses.asdict(self)


def _ramp(days: np.ndarray, p: IntegrityParams) -> np.ndarray:
    span = p.established_full_days - p.established_min_days
    return np.asarray(np.clip((days - p.established_min_days) / span, 0.0, 1.0))


def _has_history(time_coverage: float, history_days: float, p: IntegrityParams) -> bool:
    """Whether first-seen times are evidence: enough rows carry a time and the times span a full ramp."""
    return time_coverage >= p.time_coverage_min and history_days >= p.established_full_days


def established_weights(
    seen: np.ndarray,
    created: np.ndarray,
    now: float,
    time_coverage: float,
    p: IntegrityParams,
    history_days: float = math.inf,
) -> np.ndarray:
    """How established each account is, in [0, 1].

    Parameters
    ----------
    seen : ndarray
        :func:`core.pairs.first_seen` of each account (``inf`` = no time).
    created : ndarray
        Creation time reported by the network (``nan`` = unknown).
    now : float
        Reference time.
    time_coverage : float
        Share of the engagement rows that carry a time.
    p : IntegrityParams
    history_days : float
        Days between the first and the last engagement time of the data.

    Examples
    --------
    >>> now = 200 * DAY
    >>> seen = np.array([now - 100 * DAY, now - 2 * DAY, np.inf])
    >>> established_weights(seen, np.full(3, np.nan), now, 1.0, IntegrityParams()).tolist()
    [1.0, 0.0, 0.0]
    >>> established_weights(seen, np.array([np.nan, now - 400 * DAY, now - DAY]), now, 0.0,
    ...                     IntegrityParams()).tolist()
    [1.0, 1.0, 0.0]
    >>> established_weights(seen, np.array([np.nan, now - 400 * DAY, now - DAY]), now, 1.0,
    ...                     IntegrityParams()).tolist()
    [1.0, 1.0, 0.0]
    """
    timed = _has_history(time_coverage, history_days, p)
    if timed:
        known = np.isfinite(seen)
        e = np.where(known, _ramp((now - np.where(known, seen, now)) / DAY, p), 0.0)
    else:
        e = np.ones(len(seen))
    has_created = np.isfinite(created)
    age = _ramp((now - np.where(has_created, created, now)) / DAY, p)
    if not timed:  # no history to judge by: the creation time decides where it is known
        return np.asarray(np.where(has_created, age, e))
    return np.asarray(np.where(has_created, np.maximum(e, age), e))


def trust_seeds(
    seen: np.ndarray,
    created: np.ndarray,
    now: float,
    time_coverage: float,
    p: IntegrityParams,
    history_days: float = math.inf,
) -> np.ndarray:
    """1 where trust starts (the teleport), else 0: accounts with a full history.

    Where the data has a history (see :func:`established_weights`), a seed is an account first seen
    at least ``established_full_days`` before ``now``, and not reported as created since: an old
    account that only just appeared (a bought, aged account) relays rank it receives but starts none.
    Without a history, every account not reported as young is a seed. A partly established account
    only relays rank: many half-new accounts cannot add up to one seed.

    Examples
    --------
    >>> now = 200 * DAY
    >>> seen = np.array([now - 100 * DAY, now - 2 * DAY, now - 2 * DAY])
    >>> created = np.array([np.nan, now - 400 * DAY, np.nan])
    >>> trust_seeds(seen, created, now, 1.0, IntegrityParams()).tolist()
    [1.0, 0.0, 0.0]
    >>> trust_seeds(seen, created, now, 0.0, IntegrityParams()).tolist()
    [1.0, 1.0, 1.0]
    """
    timed = _has_history(time_coverage, history_days, p)
    has_created = np.isfinite(created)
    young = has_created & ((now - np.where(has_created, created, now)) / DAY < p.established_full_days)
    if timed:
        finite = np.isfinite(seen)
        old = finite & ((now - np.where(finite, seen, now)) / DAY >= p.established_full_days)
    else:
        old = np.ones(len(seen), dtype=bool)
    return np.asarray((old & ~young).astype(np.float64))


def reverse_counts(indptr: np.ndarray, indices: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """For each pair ``u -> v`` of an in-adjacency (rows by author), the count of ``v -> u`` (0 if none).

    Examples
    --------
    >>> # rows by author: 1 <- 0 (count 2), 0 <- 1 (count 5), 2 <- 0 (count 1)
    >>> reverse_counts(np.array([0, 1, 2, 3]), np.array([1, 0, 0]), np.array([5.0, 2.0, 1.0]), 3).tolist()
    [2.0, 5.0, 0.0]
    """
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    key = indices.astype(np.int64) * n + row  # (engager, author) of each pair
    rkey = row * n + indices.astype(np.int64)  # the reverse pair's key
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    out = np.zeros(len(counts), dtype=np.float64)
    if len(sorted_keys) == 0:
        return out
    pos = np.minimum(np.searchsorted(sorted_keys, rkey), len(sorted_keys) - 1)
    hit = sorted_keys[pos] == rkey
    out[hit] = counts[order[pos[hit]]]
    return out


def mutual_discounted_weights(
    counts: np.ndarray, reverse: np.ndarray, exponent: float, reciprocity: float
) -> np.ndarray:
    """Pair weights ``count ** p - reciprocity * min(count, reverse) ** p`` (float32, >= 0).

    Examples
    --------
    >>> mutual_discounted_weights(np.array([4.0, 4.0, 9.0]), np.array([0.0, 4.0, 4.0]), 0.5, 1.0).tolist()
    [2.0, 0.0, 1.0]
    """
    mutual = np.minimum(counts, reverse)
    w = np.maximum(counts**exponent - reciprocity * mutual**exponent, 0.0)
    return np.asarray(w.astype(np.float32))


def cap_level(flows: np.ndarray, engager_established: np.ndarray, quantile: float) -> float:
    """The contribution at which one engager saturates: a quantile of established engagers' flows.

    Examples
    --------
    >>> cap_level(np.array([1.0, 2.0, 3.0, 100.0]), np.array([True, True, True, False]), 1.0)
    3.0
    """
    sel = flows[(flows > 0) & engager_established]
    if len(sel) == 0:
        sel = flows[flows > 0]
    return float(np.quantile(sel, quantile)) if len(sel) else 1.0


def soft_cap(flows: np.ndarray, tau: float) -> np.ndarray:
    """``tau * (1 - exp(-f / tau))``: about ``f`` for small flows, never above ``tau``.

    Examples
    --------
    >>> [round(v, 3) for v in soft_cap(np.array([0.01, 1.0, 1000.0]), 1.0).tolist()]
    [0.01, 0.632, 1.0]
    """
    return np.asarray(tau * -np.expm1(-np.asarray(flows, dtype=np.float64) / tau))


def breadth(row: np.ndarray, capped: np.ndarray, n: int, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Effective number of engagers ``(sum f)^2 / sum f^2`` per author and the factor ``n / (n + k)``.

    Examples
    --------
    >>> neff, g = breadth(np.array([0, 0, 1]), np.array([1.0, 1.0, 5.0]), 3, 3.0)
    >>> neff.tolist(), g.tolist()
    ([2.0, 1.0, 0.0], [0.4, 0.25, 0.0])
    """
    s1 = np.bincount(row, weights=capped, minlength=n)
    s2 = np.bincount(row, weights=capped * capped, minlength=n)
    neff = np.zeros(n)
    np.divide(s1 * s1, s2, out=neff, where=s2 > 0)
    return neff, neff / (neff + k) if k > 0 else (neff > 0).astype(np.float64)


def band_scores(followers: np.ndarray, p: IntegrityParams) -> np.ndarray:
    """Scores of profiles without engagement: ``band_low`` rising with reach towards ``band_high``.

    Examples
    --------
    >>> [round(v, 2) for v in band_scores(np.array([0.0, 1000.0, 1e9]), IntegrityParams()).tolist()]
    [14.0, 17.73, 19.61]
    """
    f = np.maximum(np.asarray(followers, dtype=np.float64), 0.0)
    level = -np.expm1(-np.log1p(f) / math.log1p(p.band_followers))
    return np.asarray(p.band_low + (p.band_high - p.band_low) * level)


#: Follower counts at which :func:`unengaged_table` publishes the score of a profile without engagement
#: (about three knots a decade: read between them linearly in ``log1p(followers)``, the error is
#: below 0.01 points).
UNENGAGED_KNOTS: tuple[float, ...] = (0.0, *tuple(float(m * 10**e) for e in range(10) for m in (1, 2, 5)))


def unengaged_table(p: IntegrityParams) -> dict[str, list[float]]:
    """The score of a profile with no engagement yet, by follower count, published with a version.

    A reader that has no scoring core (the API, for a profile first seen after the last full pass
    and not engaged since) reads the score off this table instead of answering "no such profile";
    it is the score the next full pass gives such a profile (:func:`band_scores`).

    Examples
    --------
    >>> t = unengaged_table(IntegrityParams())
    >>> t["followers"][:3], [round(s, 2) for s in t["scores"][:2]], t["scores"][-1] < 19.9
    ([0.0, 1.0, 2.0], [14.0, 14.55], True)
    """
    followers = np.array(UNENGAGED_KNOTS)
    return {"followers": followers.tolist(), "scores": band_scores(followers, p).tolist()}


def engagement_points(
    row: np.ndarray, flow: np.ndarray, amp_frac: np.ndarray, volume: np.ndarray, cap: float, k: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What each pair adds to its author's engagement raw, and the author's parts.

    Parameters
    ----------
    row : ndarray of int
        Author of each pair.
    flow : ndarray
        Raw contribution of each pair (``damping * w * scale_u * x_u * unit``).
    amp_frac : ndarray
        Amplification share of each pair.
    volume : ndarray
        Volume divisor of each author.
    cap : float
        :func:`cap_level`.
    k : float
        ``breadth_k``.

    Returns
    -------
    pair_points : ndarray
        Per pair, after the cap and the breadth factor (amplification divided by the volume).
    amplification, network_impact : ndarray
        Per author.
    effective_engagers, factor : ndarray
        Per author (:func:`breadth`).

    Examples
    --------
    >>> pts, amp, imp, neff, g = engagement_points(
    ...     np.array([0, 0]), np.array([1.0, 1.0]), np.array([1.0, 0.0]), np.array([2.0]), 1e9, 2.0)
    >>> [[round(v, 3) for v in a.tolist()] for a in (pts, amp, imp, neff)]
    [[0.25, 0.5], [0.25], [0.5], [2.0]]
    """
    n = len(volume)
    capped = soft_cap(flow, cap)
    neff, factor = breadth(row, capped, n, k)
    points = capped * factor[row]
    amplification = np.bincount(row, weights=points * amp_frac, minlength=n) / volume
    network_impact = np.bincount(row, weights=points * (1.0 - amp_frac), minlength=n)
    pair_points = points * (amp_frac / volume[row] + (1.0 - amp_frac))
    return pair_points, amplification, network_impact, neff, factor


def breadth_ceiling(scores: np.ndarray, engagers: np.ndarray, p: IntegrityParams) -> np.ndarray:
    """Scores held under the ceiling of their profile's distinct engagers (a smooth minimum).

    ``ceiling = score_floor + 2 * ceiling_softness + ceiling_step * (engagers - 1)``; the result is
    ``c - s * log1p(exp((c - score) / s))``: about the score well below the ceiling, about the ceiling
    well above it, strictly increasing in the score.

    Examples
    --------
    >>> p = IntegrityParams()
    >>> [round(float(v), 2) for v in breadth_ceiling(np.array([90.0, 90.0, 30.0]), np.array([1, 30, 30]), p)]
    [23.0, 90.0, 30.0]
    """
    s = p.ceiling_softness
    count = np.maximum(np.asarray(engagers, np.float64), 1.0)
    ceiling = p.score_floor + 2.0 * s + p.ceiling_step * (count - 1.0)
    gap = (ceiling - np.asarray(scores, dtype=np.float64)) / s
    # log1p(exp(gap)) without overflow: gap + log1p(exp(-gap)) for gap > 0
    soft = np.where(gap > 0, gap + np.log1p(np.exp(-np.abs(gap))), np.log1p(np.exp(-np.abs(gap))))
    return np.asarray(ceiling - s * soft)


def calibration_table(fitted: CalibrationTable | None, p: IntegrityParams) -> CalibrationTable:
    """The stored table of an integrity version: the scale fitted on the calibration population
    (onto ``[score_floor, 100]``) with a first knot ``(0, band_high)`` below it; without a population
    (``None``: no audience anywhere yet), a line from the band to the floor.

    Examples
    --------
    >>> calibration_table(None, IntegrityParams()).score.tolist()
    [19.9, 20.0]
    """
    if fitted is None:
        return CalibrationTable(np.array([0.0, 1.0]), np.array([p.band_high, p.score_floor]), population=0)
    return CalibrationTable(
        np.concatenate([[0.0], fitted.raw]),
        np.concatenate([[p.band_high], fitted.score]),
        fitted.target_mean,
        fitted.target_p95,
        fitted.population,
    )
