"""Incremental score of the authors whose engagement edges changed: a local Gauss-Seidel step of the
core's solve (``core.scoring``), run by the score updater on the table stream.

The model (``core.scoring``): with ranks ``x`` (sum 1), ``U`` accounts, damping ``d``, an engager ``u``
with out-weight ``s_u`` (sum of its pair weights) passes ``d * w_uv * pass_u / (s_u + k) * x_u`` to
``v``; the rest teleports. Account raw = ``U * (rw * beta * t_v + inflow_amp / vol_v +
(inflow_v - inflow_amp))``. In raw units (``X = U * x``) the author's raw only needs, per engager,
``X_u`` and ``s_u``, and for the author its own teleport share ``tele_v = U * beta * t_v``:

    inflow_v  = sum_u d * w_uv(now) * pass_u / (s_u(now) + k) * X_u
    raw_v     = rw * tele_v + inflow_amp_v / vol_v + (inflow_v - inflow_amp_v)
    X_v       = tele_v + inflow_v                      (the rank v passes on, written back)

``core.incremental.update_scores`` does the same push over the whole graph in memory; a stream
Lambda cannot hold the graph, so here the step is restricted to the changed authors, reading their
neighbourhood from the table:

* ``EDGES#<net>#<author>``: the engagers and their per-type counts (pair weight as in the core:
  decayed, type-weighted, ``** pair_exponent``, float32);
* per account ``ACCOUNT#<net>#<id> / RANK#<version>`` (``RankState``): ``x`` (= ``X``), ``tele``,
  ``s0`` (out-weight at the full pass, time ``t0``), ``raw`` and its three components. The full
  pass seeds these (``functions.shared.rank_state``); the updater keeps ``x``/``raw`` of the authors it
  recomputes (Gauss-Seidel: later authors use the newest ``X``) and, per engager, the pair counts that
  changed since the full pass (``b_<author>`` = at the full pass, ``n_<author>`` = now), so that
  ``s_u(now) = s0 * f**p + sum_changed ((n f)**p - (b f)**p)``, ``f = 2**(-(now - t0) / half_life)``.
  Every write is a ``SET`` (``b_`` with ``if_not_exists``): a retried stream batch changes nothing.
* ``ALGO / INCR#<version>``: ``tele_unit = U * beta / sum(teleport weights)``, for accounts born after
  the full pass (``tele = tele_unit * (log1p(followers) + teleport_eps)``).

What it leaves out (the nightly full pass settles it): the change of an engager's out-weight lowers
what it passes to its *other* authors, and the author's new rank reaches the accounts it engages
with, only when those are next recomputed; ``U``, ``beta`` and the calibration table stay those of
the full pass. The measured gap to a fresh full pass is in ``docs/data-model.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core import model
from core.types import ENGAGEMENT_TYPES
from core.versions import AlgorithmParams, get_version, list_versions
from functions.shared.rank_state import BASE_PREFIX, NOW_PREFIX
from functions.shared.records import DECAY_EPOCH, DECAY_HALF_LIFE_S

DAY = 86_400.0
TYPE_INDEX = {name: i for i, name in enumerate(ENGAGEMENT_TYPES)}


def effective_time(count: float, decayed: float) -> float:
    """Time at which ``count`` engagements have the stored decayed sum (as the full pass reads edges).

    Examples
    --------
    >>> effective_time(2, 2.0) == DECAY_EPOCH
    True
    """
    if count <= 0 or decayed <= 0:
        return float(DECAY_EPOCH)
    return DECAY_EPOCH + DECAY_HALF_LIFE_S * math.log2(decayed / count)


def pair_counts(
    edge: Mapping[str, Any], params: AlgorithmParams, at: float, clamp: bool = True
) -> tuple[float, float]:
    """Decayed, type-weighted count of one edge item at time ``at``, and its amplification part.

    With ``clamp`` (the core's rule) engagements newer than ``at`` count at full weight; without it
    the count is the exact exponential, so that ``count(t2) = count(t1) * 2 ** (-(t2 - t1) / h)``.

    Examples
    --------
    >>> from core.versions import get_version
    >>> edge = {"c_like": 2, "d_like": 2.0, "c_share": 1, "d_share": 1.0}
    >>> pair_counts(edge, get_version("v1"), DECAY_EPOCH)
    (5.0, 3.0)
    """
    total = amp = 0.0
    for name, value in edge.items():
        if not name.startswith("c_") or name[2:] not in TYPE_INDEX:
            continue
        count = float(value)
        if count <= 0:
            continue
        ts = effective_time(count, float(edge.get("d_" + name[2:], 0.0)))
        c = model.decayed_count(count, name[2:], ts, at, params, clamp)
        total += c
        if name[2:] in params.amplification_types:
            amp += c
    return total, amp


def pair_weight(count: float, exponent: float) -> float:
    """The core's pair weight: ``count ** pair_exponent`` as float32 (:func:`core.model.pair_weight`)."""
    return model.pair_weight(count, exponent)


def volume(posts: float, params: AlgorithmParams) -> float:
    """Divisor of an account's amplification from its posting volume (:func:`core.model.volume_divisor`)."""
    return model.volume_divisor(posts, params)


@dataclass
class RankState:
    """An account's incremental state (``ACCOUNT#<net>#<id> / RANK#<version>``)."""

    x: float  # rank in raw units (U * x)
    tele: float  # own teleport share in raw units (U * beta * t)
    s0: float  # out-weight at t0
    t0: float
    passing: float = 1.0
    raw: float = 0.0
    reach: float = 0.0
    amp: float = 0.0
    impact: float = 0.0
    engagers: float = 0.0  # distinct engagers with a positive flow (integrity versions)
    base: dict[str, float] = field(default_factory=dict)  # author -> pair count at t0 (unclamped)
    current: dict[str, float] = field(default_factory=dict)  # author -> pair count now, referred to t0
    seeded: bool = True  # False: made up for an account the table holds no state for

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> RankState:
        return cls(
            x=float(item.get("x", 0.0)),
            tele=float(item.get("tele", 0.0)),
            s0=float(item.get("s0", 0.0)),
            t0=float(item.get("t0", 0.0)),
            passing=float(item.get("passing", 1.0)),
            raw=float(item.get("raw", 0.0)),
            reach=float(item.get("reach", 0.0)),
            amp=float(item.get("amp", 0.0)),
            impact=float(item.get("impact", 0.0)),
            engagers=float(item.get("engagers", 0.0)),
            base={k[2:]: float(v) for k, v in item.items() if k.startswith(BASE_PREFIX)},
            current={k[2:]: float(v) for k, v in item.items() if k.startswith(NOW_PREFIX)},
        )

    def out_weight(self, params: AlgorithmParams, now: float) -> float:
        """``s_u(now)``: the full pass's out-weight decayed to ``now`` plus the changed pairs
        (:func:`core.model.decayed_out_weight`)."""
        changed = ((count, self.base.get(author, 0.0)) for author, count in self.current.items())
        return model.decayed_out_weight(self.s0, self.t0, now, changed, params)


@dataclass(frozen=True)
class Population:
    """Constants of the last full pass (``ALGO / INCR#<version>``)."""

    t0: float
    tele_unit: float
    accounts: int
    cap: float = 1.0  # integrity versions: the pass's contribution cap (core.integrity.cap_level)
    timed: bool = True  # integrity versions: whether the pass's engagement times were a history

    @classmethod
    def default(cls, params: AlgorithmParams, now: float) -> Population:
        # no full pass yet: beta ~ 1 - d and mean teleport weight ~ 1 + eps (a rough start only)
        return cls(t0=now, tele_unit=(1.0 - params.damping) / (1.0 + params.teleport_eps), accounts=0)

    def tele_for(self, followers: float, params: AlgorithmParams) -> float:
        return self.tele_unit * (math.log1p(max(followers, 0.0)) + params.teleport_eps)


def author_row(
    edges: Iterable[Mapping[str, Any]],
    engagers: Mapping[str, RankState],
    params: AlgorithmParams,
    now: float,
) -> tuple[float, float]:
    """``(inflow, inflow_amp)`` of one author in raw units, from its edge items and engager states.

    Examples
    --------
    >>> from core.versions import get_version
    >>> u = RankState(x=2.0, tele=1.0, s0=0.0, t0=DECAY_EPOCH, current={"a": 1.0})
    >>> inflow, amp = author_row([{"engager_id": "u", "c_like": 1, "d_like": 1.0}], {"u": u},
    ...                          get_version("v1"), DECAY_EPOCH)
    >>> round(inflow, 4), amp  # 0.85 * 1 * 1 / (1 + 1) * 2
    (0.85, 0.0)
    """
    inflow = inflow_amp = 0.0
    for edge in edges:
        engager = str(edge["engager_id"])
        state = engagers.get(engager)
        if state is None:
            continue
        count, amp = pair_counts(edge, params, now)
        w = pair_weight(count, params.pair_exponent)
        if w <= 0:
            continue
        s = state.out_weight(params, now)
        if s <= 0:  # no state for this engager's out-row: it has at least this pair
            s = w
        flow = model.selective_flow(params.damping, w, state.passing, s, params.selectivity_k, state.x)
        inflow += flow
        inflow_amp += flow * min(max(amp / count, 0.0), 1.0)
    return inflow, inflow_amp


def author_state(
    previous: RankState, inflow: float, inflow_amp: float, vol: float, params: AlgorithmParams
) -> RankState:
    """The author's new state after its row was recomputed (:func:`core.model.author_components`)."""
    reach, amp, impact = model.author_components(previous.tele, inflow, inflow_amp, vol, params.reach_weight)
    return RankState(
        x=previous.tele + inflow,
        tele=previous.tele,
        s0=previous.s0,
        t0=previous.t0,
        passing=previous.passing,
        raw=reach + amp + impact,
        reach=reach,
        amp=amp,
        impact=impact,
        engagers=previous.engagers,
        base=previous.base,
        current=previous.current,
        seeded=previous.seeded,
    )


def load_params(version: str, stored: str | None = None) -> AlgorithmParams:
    """The parameters of ``version``: a built-in version, else those it was published with (``stored``,
    the JSON the full pass wrote on ``VERSION#<version>``: a release with custom parameters)."""
    if version in list_versions() or not stored:
        return get_version(version)
    return AlgorithmParams.from_dict(version, json.loads(stored))
