"""Incremental score of the authors whose engagement edges changed (the score updater's numbers).

MINIMAL AND PROVISIONAL: ``core.incremental`` (the local push / Gauss-Seidel update of the scoring
core) does not exist yet. Until it does, an author's account gets a *local* raw influence from its
own edge partition only, using the active version's parameters from ``core.versions`` (engagement
type weights, diminishing returns per engager pair):

``raw = sum over engagers of (sum over types of type_weight * decayed_count) ** pair_exponent``

where ``decayed_count`` is the stored ADD-able sum ``d_<type>`` brought to ``now``. The 1-100 score
is ``1 + 99 * (1 - exp(-raw / RAW_SCALE))`` (monotone, no population calibration), so it moves in
the right direction within seconds; the nightly rescoring workflow (full recursive solve plus
calibration) overwrites it with the real score. Replace ``account_raw``/``to_score`` by calls into
``core.incremental`` when it lands.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from functions.shared.records import DECAY_EPOCH, DECAY_HALF_LIFE_S

RAW_SCALE = 25.0
DEFAULT_TYPE_WEIGHTS: dict[str, float] = {
    "like": 1.0,
    "share": 3.0,
    "mention": 2.0,
    "reply": 2.0,
    "endorsement": 4.0,
    "quote": 3.0,
    "follow": 1.5,
    "view": 0.1,
    "comment": 2.0,
    "edit": 1.0,
}


def params_for(version: str) -> tuple[dict[str, float], float]:
    """Type weights and pair exponent of ``version`` from ``core.versions`` (defaults if unknown)."""
    weights = dict(DEFAULT_TYPE_WEIGHTS)
    exponent = 0.5
    try:
        from core.types import ENGAGEMENT_TYPES
        from core.versions import get_version

        params = get_version(version)
        weights.update(dict(zip(ENGAGEMENT_TYPES, params.type_weights, strict=False)))
        exponent = params.pair_exponent
    except Exception:  # the core is optional here: fall back to the v1 defaults
        pass
    return weights, exponent


def account_raw(
    edges: Sequence[Mapping[str, Any]], now: int, weights: Mapping[str, float], exponent: float
) -> float:
    """Local raw influence of one author from the items of its ``EDGES#`` partition.

    Examples
    --------
    >>> account_raw([{"d_like": 1.0}, {"d_share": 1.0}], DECAY_EPOCH, {"like": 1.0, "share": 4.0}, 0.5)
    3.0
    """
    decay_now = 2.0 ** (-(now - DECAY_EPOCH) / DECAY_HALF_LIFE_S)
    raw = 0.0
    for edge in edges:
        pair = sum(weights.get(k[2:], 1.0) * float(v) for k, v in edge.items() if k.startswith("d_"))
        raw += (pair * decay_now) ** exponent if pair > 0 else 0.0
    return raw


def to_score(raw: float) -> float:
    """Provisional 1-100 mapping of a local raw value (see the module docstring).

    Examples
    --------
    >>> to_score(0.0), round(to_score(25.0), 1)
    (1.0, 63.6)
    """
    return round(1.0 + 99.0 * (1.0 - math.exp(-max(raw, 0.0) / RAW_SCALE)), 3)
