"""Calibration of raw influence onto the public 1-100 scale (numpy only, no numba).

The raw influence of every profile is turned into its rank percentile in the population, and the
percentile into a score through a fixed target shape, the *logit-logistic* quantile function

    Q(p) = 1 + 99 / (1 + exp(-(mu + s * logit(p))))

whose two constants are solved so that the population mean is ``target_mean`` (40) and the 95th
percentile ``target_p95`` (63). With s ~ 1/3 the curve is steep near p = 1: 75 needs the top 1%, 86
the top 0.1%, 93 the top 0.01%: the score gets harder to climb near the top.

Ties share one score: a block of equal raw values covering percentiles ``[a, b]`` gets the mean of Q
over ``[a, b]``, which keeps the population mean exact. The fitted map is stored as a small table of
knots ``(raw, score)``, strictly increasing in raw and non-decreasing in score, applied with linear
interpolation (and clipped at both ends): monotone, equal raw -> equal score, and JSON-serialisable
so it can be stored with each algorithm version.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from core.errors import InvalidParametersError

__all__ = [
    "BUCKETS",
    "CalibrationTable",
    "apply_calibration",
    "block_scores",
    "bucket_name",
    "fit_calibration",
    "target_quantile",
]

#: Named score bands, ``(lower bound inclusive, name)``, ascending.
BUCKETS: tuple[tuple[float, str], ...] = (
    (1.0, "emerging"),
    (20.0, "active"),
    (40.0, "established"),
    (60.0, "influential"),
    (80.0, "elite"),
)


def bucket_name(score: float) -> str:
    """Name of the band a 1-100 score falls in.

    Examples
    --------
    >>> bucket_name(40), bucket_name(63.5), bucket_name(99)
    ('established', 'influential', 'elite')
    """
    s = float(score)
    if not math.isfinite(s):
        raise InvalidParametersError(f"score must be finite, got {score!r}")
    name = BUCKETS[0][1]
    for lower, bucket in BUCKETS:
        if s >= lower:
            name = bucket
    return name


_GRID = 1 << 16


@functools.lru_cache(maxsize=16)
def _shape(target_mean: float, target_p95: float) -> tuple[float, float, np.ndarray]:
    """Solve (mu, s) of Q and tabulate its antiderivative on a uniform grid of [0, 1]."""
    if not 1.0 < target_mean < target_p95 < 100.0:
        raise InvalidParametersError("need 1 < target_mean < target_p95 < 100")
    fine = 1 << 18
    p = (np.arange(fine) + 0.5) / fine
    lg = np.log(p / (1 - p))
    y95 = (target_p95 - 1.0) / 99.0
    anchor = math.log(y95 / (1 - y95))
    l95 = math.log(0.95 / 0.05)

    def mean_for(s: float) -> float:
        mu = anchor - s * l95
        return float(np.mean(1.0 + 99.0 / (1.0 + np.exp(-(mu + s * lg)))))

    lo, hi = 1e-3, 20.0
    if not (mean_for(hi) <= target_mean <= mean_for(lo)):
        raise InvalidParametersError(f"no calibration shape with mean {target_mean} and p95 {target_p95}")
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if mean_for(mid) > target_mean:
            lo = mid
        else:
            hi = mid
    s = 0.5 * (lo + hi)
    mu = anchor - s * l95
    q = 1.0 + 99.0 / (1.0 + np.exp(-(mu + s * lg)))
    # antiderivative at the grid points j / _GRID, from the fine midpoint rule
    per_cell = q.reshape(_GRID, fine // _GRID).mean(axis=1) / _GRID
    integral = np.concatenate([[0.0], np.cumsum(per_cell)])
    integral.flags.writeable = False
    return mu, s, integral


def target_quantile(p: np.ndarray | float, target_mean: float = 40.0, target_p95: float = 63.0) -> np.ndarray:
    """The target score at population percentile ``p`` in [0, 1].

    Examples
    --------
    >>> round(float(target_quantile(0.95)), 3)
    63.0
    """
    mu, s, _ = _shape(float(target_mean), float(target_p95))
    pa = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        lg = np.log(pa) - np.log1p(-pa)
    return np.asarray(1.0 + 99.0 / (1.0 + np.exp(-(mu + s * lg))))


def block_scores(
    lo: np.ndarray, hi: np.ndarray, target_mean: float, target_p95: float, floor: float = 1.0
) -> np.ndarray:
    """Score of each block of the population between percentiles ``[lo, hi]``: the mean of the target
    quantile function over it, the target shape mapped linearly from ``[1, 100]`` onto
    ``[floor, 100]`` (keeping the mean and P95 targets).

    Examples
    --------
    >>> s = block_scores(np.array([0.0, 0.5]), np.array([0.5, 1.0]), 40.0, 63.0, floor=20.0)
    >>> bool(20.0 < s[0] < s[1] < 100.0)
    True
    """
    if floor == 1.0:
        return _block_means(lo, hi, target_mean, target_p95)
    span = (100.0 - floor) / 99.0
    unit = _block_means(lo, hi, 1.0 + (target_mean - floor) / span, 1.0 + (target_p95 - floor) / span)
    return np.asarray(floor + (unit - 1.0) * span)


def _block_means(lo: np.ndarray, hi: np.ndarray, target_mean: float, target_p95: float) -> np.ndarray:
    """Mean of Q over each ``[lo, hi]`` (exact to the grid; Q at the midpoint for narrow blocks)."""
    _, _, integral = _shape(target_mean, target_p95)
    grid = np.linspace(0.0, 1.0, _GRID + 1)
    width = hi - lo
    wide = width > 4.0 / _GRID
    out = target_quantile(0.5 * (lo + hi), target_mean, target_p95)
    if wide.any():
        a = np.interp(lo[wide], grid, integral)
        b = np.interp(hi[wide], grid, integral)
        out[wide] = (b - a) / width[wide]
    return np.clip(out, 1.0, 100.0)


@dataclass(frozen=True)
class CalibrationTable:
    """Monotone map from raw influence to the 1-100 score: knots applied by linear interpolation.

    Attributes
    ----------
    raw : ndarray of float64
        Strictly increasing raw values.
    score : ndarray of float64
        Non-decreasing scores in [1, 100] at those raw values.
    target_mean, target_p95 : float
        The target the table was fitted for.
    population : int
        Number of profiles it was fitted on.
    """

    raw: np.ndarray
    score: np.ndarray
    target_mean: float = 40.0
    target_p95: float = 63.0
    population: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable dict (floats round-trip exactly through ``json``)."""
        return {
            "raw": [float(v) for v in self.raw],
            "score": [float(v) for v in self.score],
            "target_mean": float(self.target_mean),
            "target_p95": float(self.target_p95),
            "population": int(self.population),
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> CalibrationTable:
        """Inverse of :meth:`to_dict`; validates the knots.

        Examples
        --------
        >>> t = fit_calibration(np.array([0.1, 0.2, 0.2, 5.0]))
        >>> CalibrationTable.from_dict(t.to_dict()) == t
        True
        """
        try:
            raw = np.asarray(d["raw"], dtype=np.float64)
            score = np.asarray(d["score"], dtype=np.float64)
            table = cls(
                raw,
                score,
                float(d.get("target_mean", 40.0)),  # type: ignore[arg-type]
                float(d.get("target_p95", 63.0)),  # type: ignore[arg-type]
                int(d.get("population", 0)),  # type: ignore[call-overload]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidParametersError(f"not a calibration table: {exc}") from None
        table.check()
        return table

    def check(self) -> None:
        """Raise :class:`~core.errors.InvalidParametersError` unless the knots are well formed."""
        r, s = self.raw, self.score
        if r.ndim != 1 or s.ndim != 1 or len(r) != len(s) or len(r) == 0:
            raise InvalidParametersError("calibration knots must be two 1-D arrays of equal, non-zero length")
        if not (np.isfinite(r).all() and np.isfinite(s).all()):
            raise InvalidParametersError("calibration knots must be finite")
        if (np.diff(r) <= 0).any() or (np.diff(s) < 0).any():
            raise InvalidParametersError("calibration knots must increase")
        if s.min() < 1.0 or s.max() > 100.0:
            raise InvalidParametersError("calibration scores must lie in [1, 100]")

    def __eq__(self, other: object) -> bool:
        """Tables are equal when their knots are."""
        if not isinstance(other, CalibrationTable):
            return NotImplemented
        return (
            np.array_equal(self.raw, other.raw)
            and np.array_equal(self.score, other.score)
            and self.target_mean == other.target_mean
            and self.target_p95 == other.target_p95
            and self.population == other.population
        )

    __hash__ = None  # type: ignore[assignment]


def fit_calibration(
    raw: np.ndarray,
    target_mean: float = 40.0,
    target_p95: float = 63.0,
    knots: int = 1024,
    floor: float = 1.0,
) -> CalibrationTable:
    """Fit the calibration table of a population of raw influence values.

    Parameters
    ----------
    raw : ndarray
        Raw influence per profile (finite, >= 0).
    target_mean, target_p95 : float
        Target mean and 95th percentile of the scores of this population.
    knots : int
        Maximum number of knots kept (denser near the top, where the score moves fastest).
    floor : float
        Lowest score of the scale: the target shape is mapped linearly from ``[1, 100]`` onto
        ``[floor, 100]`` (keeping the mean and P95 targets).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = fit_calibration(rng.lognormal(size=10_000))
    >>> s = apply_calibration(rng.lognormal(size=10_000), t)
    >>> bool(39 < s.mean() < 41)
    True
    """
    r = np.asarray(raw, dtype=np.float64)
    if r.ndim != 1 or len(r) == 0:
        raise InvalidParametersError("raw must be a non-empty 1-D array")
    if not np.isfinite(r).all():
        raise InvalidParametersError("raw values must be finite")
    if knots < 2:
        raise InvalidParametersError("knots must be >= 2")
    if not 1.0 <= floor < target_mean:
        raise InvalidParametersError(f"floor must be in [1, target_mean), got {floor}")
    values, counts = np.unique(r, return_counts=True)
    n = len(r)
    cum = np.cumsum(counts)
    hi = cum / n
    lo = (cum - counts) / n
    scores = np.maximum.accumulate(block_scores(lo, hi, target_mean, target_p95, floor))
    if len(values) > knots:
        t = np.linspace(0.0, 1.0, knots)
        probs = 1.0 - (1.0 - t) ** 2  # denser near the top
        idx = np.searchsorted(hi, probs, side="left")
        idx = np.unique(np.clip(idx, 0, len(values) - 1))
        idx = np.union1d(idx, [0, len(values) - 1])
        values, scores = values[idx], scores[idx]
    return CalibrationTable(values.copy(), scores.copy(), float(target_mean), float(target_p95), n)


def apply_calibration(raw: np.ndarray | float, table: CalibrationTable) -> np.ndarray:
    """Scores in [1, 100] of raw influence values under a calibration table.

    Monotone non-decreasing in ``raw``; equal raw values get equal scores; values outside the
    table's range get the end scores.

    Examples
    --------
    >>> t = CalibrationTable(np.array([0.0, 1.0]), np.array([1.0, 100.0]))
    >>> apply_calibration(np.array([-1.0, 0.5, 3.0]), t).tolist()
    [1.0, 50.5, 100.0]
    """
    if not isinstance(table, CalibrationTable):
        raise InvalidParametersError("table must be a CalibrationTable")
    r = np.asarray(raw, dtype=np.float64)
    if not np.isfinite(r).all():
        raise InvalidParametersError("raw values must be finite")
    if len(table.raw) == 1:
        return np.full(r.shape, float(table.score[0]))
    return np.asarray(np.interp(r, table.raw, table.score))
