"""Explanations: the contributions that add up to a profile's score.

(Over 500 lines: the additive explanation of every version, the integrity versions' counterfactuals and
rules, and the influence lists read the same solved flows, so they share this module.)

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

from core import integrity
from core.calibration import apply_calibration, bucket_name
from core.errors import InvalidParametersError
from core.scoring import SUBSCORES, ScoreResult
from core.types import ENGAGEMENT_TYPES, NETWORKS, Accounts, Engagements

__all__ = ["ADDITIVITY_RULE", "explain", "influence", "influence_all", "score_without"]

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
    if result.integrity is not None:
        return _explain_integrity(result, engagements, accounts, p, int(top_n))
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


def _profile_pairs(result: ScoreResult, accounts: Accounts, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Accounts of profile ``p`` and the CSR positions of the pairs they receive."""
    assert result.graph is not None
    indptr = result.graph.csr.indptr
    members = np.flatnonzero(accounts.profile == p)
    spans = [np.arange(int(indptr[a]), int(indptr[a + 1])) for a in members.tolist()]
    return members, np.concatenate(spans) if spans else np.zeros(0, np.int64)


def _raw_of(result: ScoreResult, members: np.ndarray, drop: np.ndarray | None = None) -> tuple[float, int]:
    """A profile's engagement raw and engager count from the solved flows, without those in ``drop``."""
    detail, graph = result.integrity, result.graph
    assert detail is not None and graph is not None and result.params.integrity is not None
    csr = graph.csr
    total = 0.0
    engagers = 0
    for a in members.tolist():
        lo, hi = int(csr.indptr[a]), int(csr.indptr[a + 1])
        flow = detail.pair_flow[lo:hi]
        if drop is not None:
            flow = np.where(np.isin(csr.indices[lo:hi], drop), 0.0, flow)
        engagers += int((flow > 0).sum())
        capped = integrity.soft_cap(flow, detail.cap)
        s1 = float(capped.sum())
        if s1 <= 0:
            continue
        neff = s1 * s1 / float((capped * capped).sum())
        k = result.params.integrity.breadth_k
        factor = neff / (neff + k) if k > 0 else 1.0
        frac = graph.amp_frac[lo:hi]
        total += factor * float((capped * (frac / graph.volume[a] + (1.0 - frac))).sum())
    return total, engagers


def score_without(result: ScoreResult, accounts: Accounts, profile_index: int, engagers: list[int]) -> float:
    """The profile's score if the given engager accounts had not engaged it (integrity versions).

    Computed from the solved flows of ``result`` under its calibration table: the engagers' pairs are
    removed and the profile's capped sum and breadth recomputed. It agrees with a full rescoring without
    those engagements (same table) to within the second-order change of the engagers' other flows.

    Examples
    --------
    >>> from core.scoring import score_population
    >>> acc = Accounts.from_ids([str(i) for i in range(8)])
    >>> eng = Engagements.from_arrays(list(range(1, 8)), [0] * 7, etype="share", ts=0.0)
    >>> res = score_population(eng, acc, "v3")
    >>> score_without(res, acc, 0, [1]) <= float(res.score[0])
    True
    """
    if result.integrity is None or result.params.integrity is None:
        raise InvalidParametersError("score_without needs a result of an integrity version (v3 and later)")
    members = np.flatnonzero(accounts.profile == int(profile_index))
    rules = result.params.integrity
    raw, count = _raw_of(result, members, np.asarray(engagers, dtype=np.int64))
    if raw <= 0:
        followers = float(accounts.followers[members].max()) if len(members) else 0.0
        return float(integrity.band_scores(np.array([followers]), rules)[0])
    calibrated = apply_calibration(np.array([raw]), result.calibration)
    return float(integrity.breadth_ceiling(calibrated, np.array([count]), rules)[0])


def _explain_integrity(
    result: ScoreResult, engagements: Engagements, accounts: Accounts, p: int, top_n: int
) -> dict[str, Any]:
    detail, graph = result.integrity, result.graph
    rules = result.params.integrity
    assert detail is not None and graph is not None and rules is not None
    csr = graph.csr
    score = float(result.score[p])
    raw = float(result.raw_profile[p])
    factor = score / raw if raw > 0 else 0.0
    members, pos = _profile_pairs(result, accounts, p)
    engager = csr.indices[pos].astype(np.int64)
    row = np.repeat(members, [int(csr.indptr[a + 1] - csr.indptr[a]) for a in members.tolist()])
    frac = graph.amp_frac[pos]
    pts = detail.pair_points_raw[pos] * factor
    amp_pts = np.zeros(len(pos))
    np.divide(detail.pair_points_raw[pos] * frac / graph.volume[row], 1.0, out=amp_pts)
    amp_pts = amp_pts * factor
    by_engager: dict[int, list[float]] = {}
    for k, u in enumerate(engager.tolist()):
        rec = by_engager.setdefault(u, [0.0, 0.0])
        rec[0] += float(amp_pts[k])
        rec[1] += float(pts[k] - amp_pts[k])
    ranked = sorted(by_engager.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
    top = ranked[:top_n]
    in_profile = np.isin(engagements.dst, members)
    src_rows = engagements.src[in_profile]
    type_rows = engagements.etype[in_profile]
    top_engagers = []
    for u, v in top:
        mine = src_rows == u
        by_type = {
            ENGAGEMENT_TYPES[int(t)]: int(c)
            for t, c in zip(*np.unique(type_rows[mine], return_counts=True), strict=True)
        }
        without = score_without(result, accounts, p, [u])
        top_engagers.append(
            {
                "account": accounts.ids[u],
                "points": round(v[0] + v[1], 6),
                "amplification": round(v[0], 6),
                "network_impact": round(v[1], 6),
                "engagements": int(mine.sum()),
                "by_type": by_type,
                "score_without": round(without, 6),
                "counterfactual_points": round(score - without, 6),
            }
        )
    other = sum(v[0] + v[1] for _, v in ranked[top_n:])
    networks: dict[int, dict[str, Any]] = {}
    for a in members.tolist():
        net = int(accounts.network[a])
        entry = networks.setdefault(net, {"network": NETWORKS[net], "accounts": [], "points": 0.0})
        entry["accounts"].append(accounts.ids[a])
        entry["points"] += float(result.raw_account[a]) * factor
    net_list = [
        {
            "network": e["network"],
            "accounts": e["accounts"],
            "points": float(e["points"]),
            "score": float(result.network_scores[p, code]),
        }
        for code, e in sorted(networks.items())
    ]
    # decay: the same pairs without decay (first order: flows scale with the pair weight)
    nodecay = np.maximum(graph.pair_count_nodecay[pos], graph.pair_count[pos])
    ratio = np.ones(len(pos))
    np.divide(nodecay, graph.pair_count[pos], out=ratio, where=graph.pair_count[pos] > 0)
    lost = float((pts * (ratio**result.params.pair_exponent - 1.0)).sum())
    rules_applied = _rules_applied(result, accounts, p, members, pos, engager)
    return {
        "profile": accounts.profile_ids[p],
        "score": score,
        "bucket": bucket_name(score),
        "version": result.version,
        "params_digest": result.params_digest,
        "additivity": ADDITIVITY_RULE,
        "signals": {name: float(result.subscores[name][p]) for name in SUBSCORES},
        "networks": net_list,
        "reach_points": float(result.subscores["reach"][p]),
        "top_engagers": top_engagers,
        "other_engagers_points": other,
        "unique_engagers": len(by_engager),
        "effective_engagers": float(detail.effective_engagers[members].sum()),
        "calibrated": bool(detail.calibrated[p]),
        "rules": rules_applied,
        "decay": {
            "half_life_days": result.params.half_life_days,
            "points_lost_estimate": lost,
            "note": "first-order estimate of the points the same engagements would add without decay",
        },
    }


def _rules_applied(
    result: ScoreResult, accounts: Accounts, p: int, members: np.ndarray, pos: np.ndarray, engager: np.ndarray
) -> list[dict[str, Any]]:
    """The integrity rules that changed this profile's score, each with its count and effect."""
    detail, rules = result.integrity, result.params.integrity
    assert detail is not None and rules is not None
    out: list[dict[str, Any]] = []
    distinct = np.unique(engager)
    new = distinct[detail.established[distinct] < 0.5]
    if len(new):
        out.append(
            {
                "rule": "not_established",
                "engagers": len(new),
                "text": f"{len(new)} engagers discounted as new or without history (a suspected farm "
                "carries no trust): their engagement passes little or no rank",
            }
        )
    mutual = np.unique(engager[detail.mutual[pos]])
    if len(mutual):
        out.append(
            {
                "rule": "mutual_engagement",
                "engagers": len(mutual),
                "text": f"{len(mutual)} engagers are engaged back by this profile: the mutual part cancels",
            }
        )
    capped = np.unique(engager[detail.pair_flow[pos] > detail.cap])
    if len(capped):
        out.append(
            {
                "rule": "engager_cap",
                "engagers": len(capped),
                "text": f"{len(capped)} engagers reached the cap of one engager's contribution",
            }
        )
    neff = float(detail.effective_engagers[members].max()) if len(members) else 0.0
    factor = float(detail.breadth[members].max()) if len(members) else 0.0
    if 0 < factor < 0.9:
        out.append(
            {
                "rule": "breadth",
                "effective_engagers": round(neff, 3),
                "factor": round(factor, 4),
                "text": f"breadth: {neff:.1f} effective engagers keep {factor:.0%} of the engagement",
            }
        )
    if not bool(detail.calibrated[p]):
        out.append(
            {
                "rule": "below_calibration_population",
                "text": f"fewer than {rules.min_engagers} established engagers: scored below the calibrated "
                f"scale (from {rules.band_high} to {rules.score_floor})"
                if result.raw_profile[p] > 0
                else f"no engagement in the window: scored by reach in [{rules.band_low}, {rules.band_high}]",
            }
        )
    return out


def influence(
    result: ScoreResult, engagements: Engagements, accounts: Accounts, profile_index: int, top_n: int = 10
) -> dict[str, Any]:
    """Top influencers (who raised this profile's score most) and influencees (whom it raised most).

    Each entry carries the interactions behind it (engagement counts by type) and the points: for an
    influencer, the points it adds to this profile; for an influencee, the points this profile adds
    to it.

    Examples
    --------
    >>> from core.scoring import score_population
    >>> acc = Accounts.from_ids(["a", "b", "c", "d"])
    >>> eng = Engagements.from_arrays([0, 2, 1], [1, 1, 3], etype="share", ts=0.0)
    >>> res = score_population(eng, acc, "v3")
    >>> inf = influence(res, eng, acc, 1)
    >>> sorted(e["account"] for e in inf["influencers"]), [e["account"] for e in inf["influencees"]]
    (['a', 'c'], ['d'])
    """
    if not isinstance(result, ScoreResult) or result.graph is None:
        raise InvalidParametersError("result must be a ScoreResult from score_population")
    p = int(profile_index)
    prof_of_author, engager_prof, pts = _pair_points(result, accounts)

    def rows_between(src_prof: int, dst_prof: int) -> dict[str, int]:
        sel = (accounts.profile[engagements.src] == src_prof) & (
            accounts.profile[engagements.dst] == dst_prof
        )
        return {
            ENGAGEMENT_TYPES[int(t)]: int(c)
            for t, c in zip(*np.unique(engagements.etype[sel], return_counts=True), strict=True)
        }

    def top(mask: np.ndarray, key: np.ndarray) -> list[tuple[int, float]]:
        sums = np.bincount(key[mask], weights=pts[mask], minlength=len(result.score))
        order = np.lexsort((np.arange(len(sums)), -sums))
        return [(int(q), float(sums[q])) for q in order[:top_n] if sums[q] > 0]

    influencers = [
        {"account": accounts.profile_ids[q], "points": round(v, 6), "interactions": rows_between(q, p)}
        for q, v in top(prof_of_author == p, engager_prof)
    ]
    influencees = [
        {"account": accounts.profile_ids[q], "points": round(v, 6), "interactions": rows_between(p, q)}
        for q, v in top(engager_prof == p, prof_of_author)
    ]
    return {"profile": accounts.profile_ids[p], "influencers": influencers, "influencees": influencees}


def _pair_points(result: ScoreResult, accounts: Accounts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per CSR pair: author profile, engager profile and the points the engager adds to the author."""
    assert result.graph is not None
    csr = result.graph.csr
    row = np.repeat(np.arange(csr.n, dtype=np.int64), np.diff(csr.indptr))
    if result.integrity is not None:
        raw_pts = result.integrity.pair_points_raw
    else:
        g = result.graph
        u = csr.indices.astype(np.int64)
        raw_pts = g.unit * result.params.damping * g.scale[u] * result.ranks[u] * csr.weights
    factor = np.zeros(len(result.score))
    np.divide(result.score, result.raw_profile, out=factor, where=result.raw_profile > 0)
    author = accounts.profile[row]
    return author, accounts.profile[csr.indices], raw_pts * factor[author]


def influence_all(
    result: ScoreResult, engagements: Engagements, accounts: Accounts, top_n: int = 10
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """:func:`influence` of every profile at once (what a scoring pass stores), keyed by profile index.

    Entries are ``{"profile": index, "points": ..., "interactions": {type: count}}``; profiles with
    neither influencers nor influencees are left out.

    Examples
    --------
    >>> from core.scoring import score_population
    >>> acc = Accounts.from_ids(["a", "b", "c", "d"])
    >>> eng = Engagements.from_arrays([0, 2, 1], [1, 1, 3], etype="share", ts=0.0)
    >>> res = score_population(eng, acc, "v3")
    >>> every = influence_all(res, eng, acc)
    >>> sorted(e["profile"] for e in every[1]["influencers"]), [e["profile"] for e in every[1]["influencees"]]
    ([0, 2], [3])
    """
    if not isinstance(result, ScoreResult) or result.graph is None:
        raise InvalidParametersError("result must be a ScoreResult from score_population")
    n_prof = np.int64(len(result.score))
    author, engager, pts = _pair_points(result, accounts)
    keep = (pts > 0) & (author != engager)
    key = author[keep] * n_prof + engager[keep]
    uniq, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=pts[keep], minlength=len(uniq))
    a_of, e_of = uniq // n_prof, uniq % n_prof
    src_p = accounts.profile[engagements.src]
    dst_p = accounts.profile[engagements.dst]
    n_types = len(ENGAGEMENT_TYPES)
    row_key = (dst_p * n_prof + src_p) * n_types + engagements.etype.astype(np.int64)
    kinds, counts = np.unique(row_key, return_counts=True)
    by_pair: dict[int, dict[str, int]] = {}

    def interactions(pair: int) -> dict[str, int]:
        if pair not in by_pair:
            lo = np.searchsorted(kinds, pair * n_types)
            hi = np.searchsorted(kinds, (pair + 1) * n_types)
            by_pair[pair] = {
                ENGAGEMENT_TYPES[int(k % n_types)]: int(c)
                for k, c in zip(kinds[lo:hi], counts[lo:hi], strict=True)
            }
        return by_pair[pair]

    out: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for side, group, other in (("influencers", a_of, e_of), ("influencees", e_of, a_of)):
        order = np.lexsort((other, -sums, group))
        bounds = np.flatnonzero(np.diff(group[order])) + 1
        for chunk in np.split(order, bounds):
            if len(chunk) == 0:
                continue
            p = int(group[chunk[0]])
            entries = [
                {
                    "profile": int(other[j]),
                    "points": round(float(sums[j]), 6),
                    "interactions": interactions(int(uniq[j])),
                }
                for j in chunk[:top_n].tolist()
            ]
            out.setdefault(p, {"influencers": [], "influencees": []})[side] = entries
    return out
