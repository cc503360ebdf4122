"""Mergeable quantile sketch of raw influence, and the calibration table fitted from it.

A sketch is a histogram over logarithmic buckets of relative width ``2 * alpha`` (the DDSketch
layout): bucket ``i`` holds the values in ``(gamma**(i-1), gamma**i]`` with ``gamma = (1+a)/(1-a)``,
with their count and sum. Sketches of partitions merge by adding counts and sums per bucket, in any
order. The calibration is fitted on the bucket means weighted by their counts, exactly as
``core.calibration.fit_calibration`` fits distinct raw values with their multiplicities: values that
share a bucket count as ties (equal raw values are ties in the core too). With ``alpha = 1e-6`` a
population of a million profiles keeps nearly every distinct value apart; 750 million profiles
need at most ``ln(max/min) / (2 alpha)`` buckets whatever their number (about 9 million over twelve
decades of raw influence), a few hundred MB in one task.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from core.calibration import CalibrationTable, block_scores

DEFAULT_ACCURACY = 1e-6
_ZERO = np.iinfo(np.int64).min  # bucket of raw == 0


@dataclass(frozen=True)
class Sketch:
    index: np.ndarray  # int64, ascending
    count: np.ndarray  # int64
    total: np.ndarray  # float64: sum of the values in the bucket
    alpha: float

    @classmethod
    def of(cls, values: np.ndarray, alpha: float = DEFAULT_ACCURACY) -> Sketch:
        """Sketch of non-negative finite values.

        Examples
        --------
        >>> s = Sketch.of(np.array([1.0, 1.0, 2.0]))
        >>> s.count.tolist(), s.total.tolist()
        ([2, 1], [2.0, 2.0])
        """
        v = np.asarray(values, dtype=np.float64)
        if len(v) and (not np.isfinite(v).all() or (v < 0).any()):
            raise ValueError("sketch values must be finite and >= 0")
        gamma_log = math.log((1 + alpha) / (1 - alpha))
        idx = np.full(len(v), _ZERO, dtype=np.int64)
        pos = v > 0
        idx[pos] = np.ceil(np.log(v[pos]) / gamma_log).astype(np.int64)
        uniq, inverse = np.unique(idx, return_inverse=True)
        count = np.bincount(inverse, minlength=len(uniq)).astype(np.int64)
        total = np.bincount(inverse, weights=v, minlength=len(uniq))
        return cls(uniq, count, total, float(alpha))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "index": self.index,
            "count": self.count,
            "total": self.total,
            "alpha": np.array([self.alpha]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Sketch:
        return cls(arrays["index"], arrays["count"], arrays["total"], float(arrays["alpha"][0]))

    def values(self) -> np.ndarray:
        """Representative (mean) value of each bucket, strictly increasing."""
        mean = self.total / np.maximum(self.count, 1)
        return np.maximum.accumulate(mean)

    def fit(
        self, target_mean: float = 40.0, target_p95: float = 63.0, knots: int = 1024, floor: float = 1.0
    ) -> CalibrationTable:
        """The calibration table of the sketched population (``core.calibration.CalibrationTable``),
        fitted as ``core.calibration.fit_calibration`` fits raw values (onto ``[floor, 100]``)."""
        values = self.values()
        counts = self.count
        keep = np.concatenate([[True], np.diff(values) > 0])  # equal means: merge (ties)
        if not keep.all():
            group = np.cumsum(keep) - 1
            counts = np.bincount(group, weights=counts).astype(np.int64)
            values = values[keep]
        n = int(counts.sum())
        if n == 0:
            raise ValueError("empty sketch")
        cum = np.cumsum(counts)
        hi = cum / n
        lo = (cum - counts) / n
        scores = np.maximum.accumulate(block_scores(lo, hi, target_mean, target_p95, floor))
        if len(values) > knots:
            t = np.linspace(0.0, 1.0, knots)
            probs = 1.0 - (1.0 - t) ** 2  # denser near the top, as the core
            idx = np.searchsorted(hi, probs, side="left")
            idx = np.unique(np.clip(idx, 0, len(values) - 1))
            idx = np.union1d(idx, [0, len(values) - 1])
            values, scores = values[idx], scores[idx]
        return CalibrationTable(values.copy(), scores.copy(), float(target_mean), float(target_p95), n)


def merge(sketches: Iterable[Sketch]) -> Sketch:
    """One sketch of the union of the sketched populations.

    Examples
    --------
    >>> a, b = Sketch.of(np.array([1.0, 5.0])), Sketch.of(np.array([5.0, 9.0]))
    >>> merge([a, b]).count.tolist()
    [1, 2, 1]
    """
    parts = list(sketches)
    if not parts:
        raise ValueError("nothing to merge")
    alpha = parts[0].alpha
    if any(s.alpha != alpha for s in parts):
        raise ValueError("sketches of different accuracy")
    index = np.concatenate([s.index for s in parts])
    uniq, inverse = np.unique(index, return_inverse=True)
    count = np.bincount(inverse, weights=np.concatenate([s.count for s in parts]), minlength=len(uniq))
    total = np.bincount(inverse, weights=np.concatenate([s.total for s in parts]), minlength=len(uniq))
    return Sketch(uniq, count.astype(np.int64), total, alpha)
