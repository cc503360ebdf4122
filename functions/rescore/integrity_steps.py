"""The S3 exchange of the partitioned solve's integrity steps (versions with ``integrity`` rules, v3):
the numbers come from :mod:`core.partitioned_integrity` and :mod:`core.selection`; this module moves
them between the partitions (see that module's docstring for the steps).

What travels, beyond the other versions' exchange (:mod:`functions.rescore.partitioned_solve`):

* build -> setup: every pair's count, to the engager's partition (``given/q/p.npz``), for the
  mutual discount;
* setup -> later steps: how established each sent row is and its profile key (static, read by the
  consumers' halos with ranged GETs like ``teleport * scale``);
* the cap: :data:`core.selection.ROUNDS` more rounds of the solve's loop, each partition's histogram
  in ``cap/r<round>/p.json``;
* components -> write: each author profile's links to engager profiles, to the engager's partition
  (``links/q/p.json``), for the influencees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from core import integrity, selection
from core import partitioned_integrity as numeric
from core.calibration import CalibrationTable
from core.explain import explain
from core.graph import CSRGraph
from core.scoring import IntegrityDetail, ScoreResult, ScoringGraph
from core.types import ENGAGEMENT_TYPES, Accounts, Engagements
from core.versions import AlgorithmParams, params_digest
from functions.rescore.artifacts import ArtifactStore as Store
from functions.rescore.artifacts import Layout, get_arrays, get_json, put_arrays, put_json
from functions.rescore.halo import halo_static, halo_values, own_x, send_out_weights

TOP_LINKS = 10


def given_key(layout: Layout, q: int, p: int) -> str:
    """Pairs held by ``p`` whose engager belongs to ``q``."""
    return layout.key(f"given/q{q:05d}/p{p:05d}.npz")


def static_key(layout: Layout, name: str, p: int) -> str:
    """A static per-row value of ``p`` that other partitions read (raw float64, like ``send_c``)."""
    return layout.key(f"xchg/{name}-p{p:05d}.bin")


def cap_key(layout: Layout, r: int, p: int) -> str:
    return layout.key(f"cap/r{r:02d}/p{p:05d}.json")


def links_key(layout: Layout, q: int, p: int) -> str:
    """Links of ``p``'s author profiles from engager profiles of ``q``."""
    return layout.key(f"links/q{q:05d}/p{p:05d}.json")


def _static(store: Store, layout: Layout, man: Any, p: int, halo: np.ndarray, name: str) -> np.ndarray:
    return halo_static(store, layout, man, p, halo, lambda owner: static_key(layout, name, owner))


def owner_of(bounds: Sequence[int], index: np.ndarray) -> np.ndarray:
    """Partition owning each global index (partition ``p`` owns ``[bounds[p], bounds[p + 1])``)."""
    return np.searchsorted(np.asarray(bounds), index, side="right") - 1


# --- build and setup -------------------------------------------------------------------------------


def build(store: Store, layout: Layout, man: Any, p: int, params: AlgorithmParams) -> dict[str, Any]:
    """Partition ``p``'s pairs and trust terms; its out-weights and pair counts go to the engagers'
    partitions."""
    g = get_arrays(store, layout.part(p, "graph.npz"))
    lo = man.bounds[p]
    rows = numeric.build_integrity_rows(g, lo, params, man.now, man.time_coverage, man.history_days)
    halo = rows.halo
    put_arrays(
        store,
        layout.part(p, "csr.npz"),
        indptr=rows.indptr,
        indices=rows.indices,
        weights=np.zeros(len(rows.indices), np.float32),  # set by setup (the mutual discount)
        amp_frac=rows.amp_frac,
        pair_nodecay=rows.pair_nodecay,
        pair_count=rows.pair_count,
        halo=halo,
        fresh=rows.established < 0.5,
        established=rows.established,
        tele_raw=rows.tele_raw,
        volume=rows.volume,
    )
    send_out_weights(store, layout, man, p, halo, rows.out_partial)
    # each pair's count goes to the engager's partition too (the reverse counts of the mutual discount)
    cuts = np.searchsorted(halo, man.bounds)
    engager = halo[rows.indices]
    author = np.repeat(np.arange(len(rows.indptr) - 1, dtype=np.int64), np.diff(rows.indptr)) + lo
    owner = owner_of(man.bounds, engager)
    for q in range(man.partitions):
        a, b = int(cuts[q]), int(cuts[q + 1])
        if b > a:
            sel = owner == q
            put_arrays(
                store,
                given_key(layout, q, p),
                engager=engager[sel] - man.bounds[q],
                author=author[sel],
                count=rows.pair_count[sel],
            )
    return {
        "partition": p,
        "tele_sum": float(rows.tele_raw.sum()),
        "fresh": int((rows.established < 0.5).sum()),
        "established": float(rows.established.sum()),
        "pairs": len(rows.indices),
        "halo": len(halo),
    }


def scalars(man: Any, builds: Sequence[dict[str, Any]], params: AlgorithmParams) -> dict[str, Any]:
    """The solve's global scalars: the teleport normaliser (``tele_norm``), the raw-influence unit
    (how established the population is, at least 1) and whether the times are a history. ``tele_sum``
    (what a new account's teleport is measured against between passes) is 0: an account first seen
    after the pass is no trust seed."""
    ordered = sorted(builds, key=lambda b: b["partition"])
    rules = params.integrity
    assert rules is not None
    return {
        "tele_norm": math.fsum(b["tele_sum"] for b in ordered),
        "tele_sum": 0.0,
        "unit": max(1.0, math.fsum(b["established"] for b in ordered)),
        "fresh": sum(int(b["fresh"]) for b in ordered),
        "timed": numeric.timed(man.time_coverage, man.history_days, rules),
    }


def setup_terms(
    store: Store,
    layout: Layout,
    man: Any,
    p: int,
    params: AlgorithmParams,
    csr: dict[str, np.ndarray],
    out_weight: np.ndarray,
    tele_norm: float,
) -> dict[str, np.ndarray]:
    """The mutual discount of ``p``'s pairs (from the counts the engagers' partitions hold), its out-scale
    and teleport; the pair weights are written into its rows."""
    lo = man.bounds[p]
    keys = [given_key(layout, p, q) for q in range(man.partitions)]
    parts = [get_arrays(store, key) for key in keys if store.exists(key)]
    reverse = numeric.reverse_counts(
        csr["indptr"],
        csr["halo"][csr["indices"]],
        lo,
        np.concatenate([g["engager"] for g in parts]) if parts else np.zeros(0, np.int64),
        np.concatenate([g["author"] for g in parts]) if parts else np.zeros(0, np.int64),
        np.concatenate([g["count"] for g in parts]) if parts else np.zeros(0),
        man.accounts,
    )
    terms = numeric.integrity_setup(
        csr["pair_count"],
        reverse,
        out_weight,
        csr["established"],
        csr["tele_raw"],
        tele_norm,
        man.accounts,
        params,
    )
    put_arrays(
        store,
        layout.part(p, "csr.npz"),
        **(dict(csr) | {"weights": terms["weights"], "mutual": terms["mutual"]}),
    )
    return terms


def write_static(
    store: Store, layout: Layout, man: Any, p: int, send_rows: np.ndarray, established: np.ndarray
) -> None:
    """How established each sent row is and its profile's key, for the consumers' halos."""
    g = get_arrays(store, layout.part(p, "graph.npz"))
    key = man.profile_bounds[p] + g["profile"]
    store.put_bytes(static_key(layout, "est", p), established[send_rows].astype("<f8").tobytes())
    store.put_bytes(static_key(layout, "prof", p), key[send_rows].astype("<f8").tobytes())


# --- the cap: an exact distributed quantile in more rounds of the loop ---------------------------------


def start_cap(solve: dict[str, Any], params: AlgorithmParams) -> dict[str, Any]:
    """The solve's state once the rank converged: the cap's rounds come next."""
    rules = params.integrity
    assert rules is not None
    return {
        "done": False,
        "phase": "cap",
        "cap_mode": "established",
        "selection": selection.start(rules.cap_quantile),
    }


def _flows(
    store: Store, layout: Layout, man: Any, p: int, params: AlgorithmParams, solve: dict[str, Any]
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    csr = get_arrays(store, layout.part(p, "csr.npz"))
    final = int(solve["final"])
    z = halo_values(store, layout, man, p, csr["halo"], final, solve["betas"][final], f32=False)
    flow = numeric.pair_flows(csr, z, float(solve["unit"]), float(params.damping))
    return flow, csr, z


def cap_round(
    store: Store, layout: Layout, man: Any, p: int, params: AlgorithmParams, solve: dict[str, Any]
) -> dict[str, Any]:
    """One round of the cap's selection for partition ``p``: its histogram, in S3."""
    sel = solve["selection"]
    key = layout.part(p, "cap.npz")
    if int(sel["round"]) == 0 and not store.exists(key):
        flow, csr, _ = _flows(store, layout, man, p, params, solve)
        est = _static(store, layout, man, p, csr["halo"], "est")
        established, positive = numeric.cap_candidates(flow, est[csr["indices"]])
        put_arrays(store, key, established=established, positive=positive)
    values = get_arrays(store, key)
    chosen = values["established"] if solve["cap_mode"] == "established" else values["positive"]
    put_json(
        store,
        cap_key(layout, int(sel["round"]), p),
        {"histogram": selection.histogram(chosen, sel), "positive": len(values["positive"])},
    )
    return {"partition": p}


def cap_merge(store: Store, layout: Layout, man: Any, solve: dict[str, Any]) -> dict[str, Any]:
    """Merge a round's histograms; the cap once every round is in."""
    sel = solve["selection"]
    r = int(sel["round"])
    parts = [get_json(store, cap_key(layout, r, p)) for p in range(man.partitions)]
    merged = selection.merge(sel, [h["histogram"] for h in parts])
    positive = sum(int(h["positive"]) for h in parts)
    if r == 0 and merged["count"] == 0 and solve["cap_mode"] == "established" and positive > 0:
        # no established engager has a flow: the cap is a quantile of every positive flow
        return {"cap_mode": "positive", "selection": selection.start(float(sel["quantile"]))}
    if int(merged["round"]) < selection.ROUNDS:
        return {"selection": merged}
    return {"selection": merged, "phase": None, "done": True, "cap": selection.result(merged)}


# --- components, scores, links ----------------------------------------------------------------------


def components(
    store: Store, layout: Layout, man: Any, p: int, params: AlgorithmParams, solve: dict[str, Any]
) -> dict[str, Any]:
    """Partition ``p``'s components, scores terms, per-pair detail and links (before calibration)."""
    rules = params.integrity
    assert rules is not None
    final = int(solve["final"])
    flow, csr, z = _flows(store, layout, man, p, params, solve)
    state = get_arrays(store, layout.part(p, "state.npz"))
    g = get_arrays(store, layout.part(p, "graph.npz"))
    unit = float(solve["unit"])
    beta = float(solve["betas"][final + 1])
    terms = numeric.integrity_components(
        csr, flow, float(solve["cap"]), state["teleport"], unit, beta, params
    )
    comp = terms["comp"]
    raw_account = comp[:, 1] + comp[:, 2]
    prof = numeric.profile_terms(
        g["profile"], g["network"], g["followers"], csr["established"], raw_account, terms["engagers"], params
    )
    est_halo = _static(store, layout, man, p, csr["halo"], "est")
    prof_halo = _static(store, layout, man, p, csr["halo"], "prof").astype(np.int64)
    put_arrays(
        store,
        layout.part(p, "integrity.npz"),
        pair_flow=flow,
        pair_points=terms["pair_points"],
        effective_engagers=terms["effective_engagers"],
        breadth=terms["breadth"],
        engagers=terms["engagers"],
        est_halo=est_halo,
        prof_halo=prof_halo,
    )
    ranks = own_x(store, layout, p, final, solve["betas"][final], state["teleport"])
    extra = {k: prof[k] for k in ("engagers_profile", "band", "calibrated", "net_engagers")}
    _write_links(store, layout, man, p, g, csr, terms["pair_points"], prof_halo, raw_account, prof)
    return {"comp": comp, "raw_account": raw_account, "ranks": ranks, "z": z, "extra": extra}


def _write_links(
    store: Store,
    layout: Layout,
    man: Any,
    p: int,
    g: dict[str, np.ndarray],
    csr: dict[str, np.ndarray],
    pair_points: np.ndarray,
    prof_halo: np.ndarray,
    raw_account: np.ndarray,
    prof: dict[str, np.ndarray],
) -> None:
    lo = man.bounds[p]
    n_p = len(g["profile"])
    src = g["src"]
    local = (src >= lo) & (src < lo + n_p)
    same = np.zeros(len(src), dtype=bool)
    same[local] = g["profile"][src[local] - lo] == g["profile"][g["dst"][local]]
    rows = ~same
    pos = np.searchsorted(csr["halo"], src[rows])
    links = numeric.influence_links(
        csr["indptr"],
        pair_points,
        g["profile"],
        prof_halo[csr["indices"]],
        g["profile"][g["dst"][rows]],
        prof_halo[pos],
        g["etype"][rows].astype(np.int64),
    )
    n_prof = len(prof["band"])
    raw_profile = np.bincount(g["profile"], weights=raw_account, minlength=n_prof)
    put_arrays(store, layout.part(p, "links.npz"), **links)
    meta = get_json(store, layout.part(p, "meta.json"))
    owner = owner_of(man.profile_bounds, links["engager"])
    for q in np.unique(owner).tolist():
        sel = np.flatnonzero(owner == q)
        author = links["author"][sel]
        put_json(
            store,
            links_key(layout, q, p),
            {
                "engager": (links["engager"][sel] - man.profile_bounds[q]).tolist(),
                "author": [meta["profiles"][int(a)] for a in author.tolist()],
                "points": links["points"][sel].tolist(),
                "author_raw": raw_profile[author].tolist(),
                "author_engagers": prof["engagers_profile"][author].tolist(),
                "types": links["types"][sel].tolist(),
            },
        )


def calibrate_table(merged: Any, params: AlgorithmParams) -> CalibrationTable:
    """The version's table from the merged sketch of the calibration population (``None``: empty)."""
    rules = params.integrity
    assert rules is not None
    if merged is None or int(merged.count.sum()) == 0:
        return integrity.calibration_table(None, rules)
    fitted = merged.fit(
        params.target_mean, params.target_p95, params.calibration_knots, floor=rules.score_floor
    )
    return integrity.calibration_table(fitted, rules)


def scores(res: dict[str, np.ndarray], table: CalibrationTable, params: AlgorithmParams) -> dict[str, Any]:
    """Scores, sub-scores and network scores of a partition's profiles from its stored results."""
    raw = res["raw_profile"]
    band = res["band"]
    score = numeric.integrity_scores(raw, res["engagers_profile"], band, table, params)
    engaged = raw > 0
    share = np.zeros(len(raw))
    np.divide(score, raw, out=share, where=engaged)
    subscores = {
        "reach": np.where(engaged, 0.0, band),
        "amplification": res["comp_profile"][:, 1] * share,
        "network_impact": res["comp_profile"][:, 2] * share,
    }
    net = numeric.integrity_scores(
        res["raw_pn"], res["net_engagers"], np.broadcast_to(band[:, None], res["raw_pn"].shape), table, params
    )
    return {"score": score, "subscores": subscores, "network_scores": np.where(res["present"], net, 0.0)}


# --- explanations and influence ------------------------------------------------------------------------


def _factor(
    raw: np.ndarray, engagers: np.ndarray, table: CalibrationTable, params: AlgorithmParams
) -> np.ndarray:
    """Points per raw of author profiles (their score over their raw)."""
    score = numeric.integrity_scores(raw, engagers, np.zeros(len(raw)), table, params)
    out = np.zeros(len(raw))
    np.divide(score, raw, out=out, where=raw > 0)
    return out


def _types(row: Sequence[int]) -> dict[str, int]:
    return {ENGAGEMENT_TYPES[t]: int(c) for t, c in enumerate(row) if c}


def _top(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    entries.sort(key=lambda e: (-e["weight"], e["profile_id"]))
    return [e | {"weight": round(float(e["weight"]), 6)} for e in entries[:TOP_LINKS] if e["weight"] > 0]


def explain_partition(
    store: Store,
    layout: Layout,
    man: Any,
    p: int,
    params: AlgorithmParams,
    table: CalibrationTable,
    part_scores: Any,
    solve: dict[str, Any],
    version: str,
) -> dict[str, dict[str, Any]]:
    """The core's explanation (:func:`core.explain.explain`) of every linked profile of ``p``, on the
    partition with its halo as extra accounts, and its influencers and influencees."""
    meta = get_json(store, layout.part(p, "meta.json"))
    g = get_arrays(store, layout.part(p, "graph.npz"))
    csr = get_arrays(store, layout.part(p, "csr.npz"))
    res = get_arrays(store, layout.part(p, "result.npz"))
    detail = get_arrays(store, layout.part(p, "integrity.npz"))
    state = get_arrays(store, layout.part(p, "state.npz"))
    lo = man.bounds[p]
    n_p = len(g["profile"])
    n_prof = len(part_scores.profile_ids)
    halo = csr["halo"]
    inside = (halo >= lo) & (halo < lo + n_p)
    ghosts = halo[~inside]
    local_of_halo = np.empty(len(halo), np.int64)
    local_of_halo[inside] = halo[inside] - lo
    local_of_halo[~inside] = n_p + np.arange(len(ghosts))
    ghost_keys, ghost_prof = np.unique(detail["prof_halo"][~inside], return_inverse=True)
    n_tot = n_p + len(ghosts)
    ids = list(meta["ids"]) + _ids_of(store, layout, man.bounds, ghosts, p, meta, "ids")
    profile_ids = list(part_scores.profile_ids) + _ids_of(
        store, layout, man.profile_bounds, ghost_keys, p, meta, "profiles"
    )

    def ext(local: np.ndarray, fill: float) -> np.ndarray:
        return np.concatenate([local, np.full(len(ghosts), fill, dtype=np.asarray(local).dtype)])

    accounts = Accounts(
        ids=ids,
        network=ext(g["network"], 0),
        profile=np.concatenate([g["profile"], n_prof + ghost_prof.ravel()]).astype(np.int64),
        followers=ext(g["followers"], 0.0),
        posts=ext(g["posts"], 0.0),
        created=ext(g["created"], np.nan),
        profile_ids=profile_ids,
    )
    src = g["src"]
    local_rows = (src >= lo) & (src < lo + n_p)
    src_local = np.where(local_rows, src - lo, 0)
    outside = ~local_rows
    src_local[outside] = local_of_halo[np.searchsorted(halo, src[outside])]
    engagements = Engagements(src_local, g["dst"], g["weight"], g["etype"], g["ts"])
    est = np.empty(n_tot)
    est[:n_p] = csr["established"]
    est[local_of_halo] = detail["est_halo"]
    indptr = np.concatenate([csr["indptr"], np.full(len(ghosts), csr["indptr"][-1])])
    graph = ScoringGraph(
        csr=CSRGraph(
            n_tot,
            indptr,
            local_of_halo[csr["indices"]].astype(np.int32),
            csr["weights"],
            ext(state["out_weight"], 0.0),
        ),
        pair_count=csr["pair_count"],
        pair_count_nodecay=csr["pair_nodecay"],
        amp_frac=csr["amp_frac"],
        scale=ext(state["scale"], 0.0),
        teleport=ext(state["teleport"], 0.0),
        fresh=est < 0.5,
        volume=ext(csr["volume"], 1.0),
        now=float(man.now),
        unit=float(solve["unit"]),
    )
    zeros_prof = np.zeros(len(ghost_keys))
    result = ScoreResult(
        raw_account=ext(res["raw_account"], 0.0),
        raw_profile=np.concatenate([res["raw_profile"], zeros_prof]),
        score=np.concatenate([part_scores.score, zeros_prof]),
        subscores={k: np.concatenate([v, zeros_prof]) for k, v in part_scores.subscores.items()},
        network_scores=np.concatenate(
            [part_scores.network_scores, np.zeros((len(ghost_keys), part_scores.network_scores.shape[1]))]
        ),
        iterations=int(solve.get("iterations") or 0),
        residual=float(solve.get("residual") or 0.0),
        calibration=table,
        version=version,
        params_digest=params_digest(params),
        timings={},
        ranks=ext(res["ranks"], 0.0),
        components=np.concatenate([res["comp"], np.zeros((len(ghosts), 3))]),
        params=params,
        graph=graph,
        integrity=IntegrityDetail(
            established=est,
            pair_flow=detail["pair_flow"],
            pair_points_raw=detail["pair_points"],
            mutual=csr["mutual"],
            effective_engagers=ext(detail["effective_engagers"], 0.0),
            breadth=ext(detail["breadth"], 0.0),
            cap=float(solve["cap"]),
            calibrated=np.concatenate([res["calibrated"], np.zeros(len(ghost_keys), bool)]),
        ),
    )
    links = _influence(store, layout, man, p, params, table, res, meta, ghost_keys, profile_ids, n_prof)
    out: dict[str, dict[str, Any]] = {}
    for i, pid in enumerate(part_scores.profile_ids):
        if pid.startswith("unlinked:"):
            continue
        out[pid] = explain(result, engagements, accounts, i) | links.get(
            i, {"influencers": [], "influencees": []}
        )
    return out


def _influence(
    store: Store,
    layout: Layout,
    man: Any,
    p: int,
    params: AlgorithmParams,
    table: CalibrationTable,
    res: dict[str, np.ndarray],
    meta: dict[str, Any],
    ghost_keys: np.ndarray,
    profile_ids: list[str],
    n_prof: int,
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Influencers of ``p``'s profiles (its own links) and influencees (the links other partitions
    sent), with the points under the version's table."""
    links = get_arrays(store, layout.part(p, "links.npz"))
    factor = _factor(res["raw_profile"], res["engagers_profile"], table, params)
    key_index = {int(k): n_prof + j for j, k in enumerate(ghost_keys.tolist())}
    base = man.profile_bounds[p]
    out: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for a, e, pts, types in zip(
        links["author"].tolist(),
        links["engager"].tolist(),
        links["points"].tolist(),
        links["types"].tolist(),
        strict=True,
    ):
        j = e - base if base <= e < base + n_prof else key_index[e]
        entry = {"profile_id": profile_ids[j], "weight": pts * factor[a], "interactions": _types(types)}
        out.setdefault(a, {"influencers": [], "influencees": []})["influencers"].append(entry)
    for q in range(man.partitions):
        key = links_key(layout, p, q)
        if not store.exists(key):
            continue
        sent = get_json(store, key)
        f = _factor(np.asarray(sent["author_raw"]), np.asarray(sent["author_engagers"]), table, params)
        for e, author, pts, k, types in zip(
            sent["engager"], sent["author"], sent["points"], f.tolist(), sent["types"], strict=True
        ):
            entry = {"profile_id": author, "weight": pts * k, "interactions": _types(types)}
            out.setdefault(int(e), {"influencers": [], "influencees": []})["influencees"].append(entry)
    return {
        i: {side: _top(v[side]) for side in ("influencers", "influencees")}
        for i, v in out.items()
        if i < n_prof
    }


def _ids_of(
    store: Store,
    layout: Layout,
    bounds: Sequence[int],
    index: np.ndarray,
    p: int,
    meta: dict[str, Any],
    field: str,
) -> list[str]:
    """The ids (``meta.json``'s ``field``: ``ids`` of accounts, ``profiles``) of global indices owned by
    any partition (``bounds``), each other partition's meta read once."""
    owner = owner_of(bounds, index)
    out: list[str] = []
    cache: dict[int, list[str]] = {p: meta[field]}
    for i, q in zip(index.tolist(), owner.tolist(), strict=True):
        if q not in cache:
            cache[q] = get_json(store, layout.part(q, "meta.json"))[field]
        out.append(cache[q][i - bounds[q]])
    return out
