"""Explanations: the contributions that add up to a profile's score.

Additivity rule (proportional attribution): a profile's raw influence is a sum of non-negative parts,
its accounts' reach (teleport share) and the rank each engager's engagements brought to each of its
accounts (amplification divided by the posting-volume factor, and network impact). Every part gets
``part * score / raw_profile`` points, so the points of any partition of the parts add up to the
score exactly (up to float rounding): per signal, per network, and per engager (top engagers plus
"other engagers" plus reach). Decay is reported separately as points *not* earned: the first-order
estimate of what the profile's engagements would add without decay, holding the rest of the graph
fixed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.calibration import bucket_name
from core.errors import InvalidParametersError
from core.scoring import SUBSCORES, ScoreResult
from core.types import NETWORKS, Accounts, Engagements

__all__ = ["ADDITIVITY_RULE", "explain"]

ADDITIVITY_RULE = (
    "points = part * score / raw_profile for every non-negative part of the profile's raw influence "
    "(reach of each account, and the rank each engager's engagements brought, split into amplification "
    "and network impact); signals, networks and engagers (top + other + reach) each add up to the score"
)


def explain(
    result: ScoreResult, engagements: Engagements, accounts: Accounts, profile_index: int, top_n: int = 5
) -> dict[str, Any]:
    """Why a profile has its score: JSON-serialisable contributions that add up to it.

    Parameters
    ----------
    result : ScoreResult
        From :func:`core.scoring.score_population` on ``engagements`` and ``accounts``.
    engagements, accounts : Engagements, Accounts
        The inputs of that run.
    profile_index : int
        Profile to explain.
    top_n : int
        Number of top engagers listed (the rest is summed as ``other_engagers_points``).

    Returns
    -------
    dict
        ``profile``, ``score``, ``bucket``, ``version``, ``params_digest``, ``additivity``, ``signals``
        (points per sub-score), ``networks`` (points and score per network, with its accounts),
        ``top_engagers`` (account, points, per-signal points, engagement rows),
        ``other_engagers_points``, ``reach_points`` and ``decay`` (estimated points lost to decay).

    Examples
    --------
    >>> from core.scoring import score_population
    >>> acc = Accounts.from_ids(["a", "b", "c"])
    >>> eng = Engagements.from_arrays([0, 2], [1, 1], etype="share", ts=0.0)
    >>> res = score_population(eng, acc)
    >>> ex = explain(res, eng, acc, 1)
    >>> ex["top_engagers"][0]["account"] in ("a", "c"), abs(sum(ex["signals"].values()) - ex["score"]) < 0.01
    (True, True)
    """
    if not isinstance(result, ScoreResult) or result.graph is None:
        raise InvalidParametersError("result must be a ScoreResult from score_population")
    if not isinstance(accounts, Accounts) or len(accounts.ids) != len(result.raw_account):
        raise InvalidParametersError("accounts do not match the result")
    if not isinstance(engagements, Engagements):
        raise InvalidParametersError("engagements must be an Engagements table")
    n_prof = len(result.score)
    if not isinstance(profile_index, int | np.integer) or not 0 <= int(profile_index) < n_prof:
        raise InvalidParametersError(f"profile_index must be in [0, {n_prof})")
    if int(top_n) < 0:
        raise InvalidParametersError("top_n must be >= 0")
    p = int(profile_index)
    g = result.graph
    csr = g.csr
    d = result.params.damping
    score = float(result.score[p])
    raw = float(result.raw_profile[p])
    factor = score / raw if raw > 0 else 0.0
    members = np.flatnonzero(accounts.profile == p)

    eng_pts: dict[int, list[float]] = {}
    networks: dict[int, dict[str, Any]] = {}
    reach_total = 0.0
    decay_lost = 0.0
    beta_exp = result.params.pair_exponent
    for a in members.tolist():
        net = int(accounts.network[a])
        entry = networks.setdefault(net, {"network": NETWORKS[net], "accounts": [], "points": 0.0})
        entry["accounts"].append(accounts.ids[a])
        reach_pts = float(result.components[a, 0]) * factor
        reach_total += reach_pts
        entry["points"] += reach_pts
        lo, hi = int(csr.indptr[a]), int(csr.indptr[a + 1])
        if hi == lo:
            continue
        u = csr.indices[lo:hi].astype(np.int64)
        w = csr.weights[lo:hi].astype(np.float64)
        base = g.unit * d * g.scale[u] * result.ranks[u]
        flow = base * w
        frac = g.amp_frac[lo:hi]
        amp = flow * frac / g.volume[a]
        imp = np.maximum(flow * (1.0 - frac), 0.0)
        w0 = g.pair_count_nodecay[lo:hi] ** beta_exp
        lost = base * np.maximum(w0 - w, 0.0) * (frac / g.volume[a] + (1.0 - frac))
        decay_lost += float(lost.sum()) * factor
        entry["points"] += float((amp + imp).sum()) * factor
        for k, uu in enumerate(u.tolist()):
            rec = eng_pts.setdefault(uu, [0.0, 0.0])
            rec[0] += float(amp[k]) * factor
            rec[1] += float(imp[k]) * factor

    ranked = sorted(eng_pts.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
    top = ranked[: int(top_n)]
    in_profile = np.isin(engagements.dst, members)
    top_ids = np.array([k for k, _ in top], dtype=np.int64)
    rows = engagements.src[in_profile]
    counts = {
        int(k): int(c)
        for k, c in zip(*np.unique(rows[np.isin(rows, top_ids)], return_counts=True), strict=True)
    }
    top_engagers = [
        {
            "account": accounts.ids[k],
            "points": round(v[0] + v[1], 6),
            "amplification": round(v[0], 6),
            "network_impact": round(v[1], 6),
            "engagements": counts.get(k, 0),
        }
        for k, v in top
    ]
    other = sum(v[0] + v[1] for _, v in ranked[int(top_n) :])
    signals = {name: float(result.subscores[name][p]) for name in SUBSCORES}
    net_list = []
    for code in sorted(networks):
        e = networks[code]
        net_list.append(
            {
                "network": e["network"],
                "accounts": e["accounts"],
                "points": float(e["points"]),
                "score": float(result.network_scores[p, code]),
            }
        )
    return {
        "profile": accounts.profile_ids[p],
        "score": score,
        "bucket": bucket_name(score),
        "version": result.version,
        "params_digest": result.params_digest,
        "additivity": ADDITIVITY_RULE,
        "signals": signals,
        "networks": net_list,
        "reach_points": reach_total,
        "top_engagers": top_engagers,
        "other_engagers_points": other,
        "unique_engagers": len(eng_pts),
        "decay": {
            "half_life_days": result.params.half_life_days,
            "points_lost_estimate": decay_lost,
            "note": "first-order estimate of the points the same engagements would add without decay",
        },
    }
