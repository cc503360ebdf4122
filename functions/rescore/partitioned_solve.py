"""The partitioned solve: the core's influence rank, computed partition by partition through S3.

(Over 500 lines: every S3 exchange of the Distributed Map's steps, in the order the steps run; the
numbers themselves are computed by :mod:`core.partitioned`.)

Accounts are split into ``P`` partitions by a hash of their *profile* (all accounts of a person land in
one partition, so profile sums stay local) and numbered contiguously per partition. A partition owns the
rows (authors) of its accounts: their in-edges, aggregated per engager-author pair exactly as
``core.graph.aggregate_pairs`` does (same order, so the same float sums). The distinct engagers a
partition reads are its *halo*.

One pass of the core (``core.rank``, Jacobi)::

    y  = float32(x * scale)                  x: ranks, scale: out-row normalisation
    f  = damping * A^T y                     per row, engagers ascending
    x' = f + (1 - sum f) * t                 t: teleport
    stop when sum |x' - x| < tol

Here worker ``p`` of pass ``k`` reads, for every partition ``q``, ``P_q = f_q * scale_q`` of pass
``k-1`` (``C_q = t_q * scale_q`` is static) and forms ``y_q = float32(P_q + beta_{k-1} C_q)`` for the
engagers of its halo, so it never needs the new ``beta`` before the barrier. It writes its ``f_p``
and returns ``sum f_p``; the convergence check (one small task) turns the sums into ``beta_k``. The
residual of pass ``k-1`` needs only the partition's own rows of passes ``k-1`` and ``k-2``, so pass
``k`` reports it: the check sees each residual one pass late and stops with the same iterate as the
core (one extra pull, whose result is the inflow the components need anyway).

Everything global is either a scalar reduced by a task (teleport normaliser, fresh count, sums) or a
per-partition exchange through S3 (out-weights, ``P_q``). Quantile sketches of raw influence are merged
into the calibration table (:mod:`functions.rescore.sketch`). The integrity versions (v3) add their
own exchange and steps (first-seen times, reverse pair counts, the engager cap's selection rounds,
influence links): :mod:`functions.rescore.integrity_steps`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import model, pairs
from core import partitioned as numeric
from core.calibration import CalibrationTable, apply_calibration, bucket_name
from core.explain import ADDITIVITY_RULE
from core.partitioned_integrity import time_evidence
from core.scoring import SUBSCORES
from core.types import NETWORKS, Accounts, Engagements
from core.versions import AlgorithmParams, params_digest
from functions.rescore import integrity_steps, sketch
from functions.rescore.artifacts import ArtifactStore as Store  # the annotations below still say Store
from functions.rescore.artifacts import Layout, get_arrays, get_json, put_arrays, put_json
from functions.rescore.halo import halo_values, own_x, send_out_weights

# --- partitioning --------------------------------------------------------------------------------


def partition_of(key: str, partitions: int) -> int:
    """Stable partition of a profile id.

    Examples
    --------
    >>> partition_of("p-1", 64) == partition_of("p-1", 64)
    True
    """
    return zlib.crc32(key.encode()) % partitions


@dataclass(frozen=True)
class Manifest:
    accounts: int
    profiles: int
    engagements: int
    partitions: int
    bounds: list[int]  # partition p owns accounts [bounds[p], bounds[p + 1])
    now: float
    # partition p numbers its profiles from profile_bounds[p] (a global key of every profile)
    profile_bounds: list[int] | None = None
    # the time evidence of the rows (integrity versions): share with a time, days they span
    time_coverage: float = 0.0
    history_days: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def partition_population(
    store: Store,
    layout: Layout,
    engagements: Engagements,
    accounts: Accounts,
    params: AlgorithmParams,
    now: float,
    partitions: int,
    profiles: dict[str, dict[str, Any]] | None = None,
) -> Manifest:
    """Write the partitions of a population (the snapshot's last step). ``profiles`` carries per
    profile id its name and previous active score (``{"name", "old", "old_version", "trend"}``)."""
    n = accounts.n_accounts
    part_of_profile = np.fromiter(
        (partition_of(pid, partitions) for pid in accounts.profile_ids), np.int64, accounts.n_profiles
    )
    part = part_of_profile[accounts.profile]
    order = np.argsort(part, kind="stable")  # old index of each new position
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    counts = np.bincount(part, minlength=partitions)
    bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    src = rank[engagements.src]
    dst = rank[engagements.dst]
    epart = part[engagements.dst]
    eorder = np.argsort(epart, kind="stable")  # keeps the input order inside each partition
    ebounds = np.concatenate([[0], np.cumsum(np.bincount(epart, minlength=partitions))])

    cand = model.fresh_candidates(accounts.created, accounts.followers, params, now)[order]
    put_arrays(store, layout.cand, bits=np.packbits(cand), n=np.array([n]))
    # integrity versions: first-seen times (a global step over the rows this task holds anyway)
    seen = np.full(n, np.inf)
    coverage = history = 0.0
    if params.integrity is not None:
        seen = pairs.first_seen(engagements.src, engagements.dst, engagements.ts, n)[order]
        coverage, history = time_evidence(engagements.ts)
    profile_counts: list[int] = []

    profiles = profiles or {}
    acc_profile = accounts.profile[order]
    for p in range(partitions):
        lo, hi = int(bounds[p]), int(bounds[p + 1])
        rows = eorder[ebounds[p] : ebounds[p + 1]]
        members = order[lo:hi]
        prof_global = acc_profile[lo:hi]
        uniq, prof_local = np.unique(prof_global, return_inverse=True)
        profile_counts.append(len(uniq))
        put_arrays(
            store,
            layout.part(p, "graph.npz"),
            src=src[rows].astype(np.int64),
            dst=(dst[rows] - lo).astype(np.int64),
            weight=engagements.weight[rows],
            etype=engagements.etype[rows],
            ts=engagements.ts[rows],
            followers=accounts.followers[members],
            posts=accounts.posts[members],
            created=accounts.created[members],
            network=accounts.network[members],
            profile=prof_local.astype(np.int64),
            seen=seen[lo:hi],
        )
        pids = [accounts.profile_ids[int(i)] for i in uniq]
        put_json(
            store,
            layout.part(p, "meta.json"),
            {
                "lo": lo,
                "hi": hi,
                "ids": [accounts.ids[int(i)] for i in members],
                "profiles": pids,
                "previous": {pid: profiles[pid] for pid in pids if pid in profiles},
            },
        )
    manifest = Manifest(
        accounts=n,
        profiles=accounts.n_profiles,
        engagements=len(engagements),
        partitions=partitions,
        bounds=[int(b) for b in bounds],
        now=float(now),
        profile_bounds=[0, *np.cumsum(profile_counts, dtype=np.int64).tolist()],
        time_coverage=coverage,
        history_days=history,
    )
    put_json(store, layout.manifest, manifest.as_dict())
    put_json(store, layout.items, [{"partition": p} for p in range(partitions)])
    return manifest


def load_manifest(store: Store, layout: Layout) -> Manifest:
    return Manifest(**get_json(store, layout.manifest))


# --- build: pair aggregation per partition ----------------------------------------------------------


def build_partition(store: Store, layout: Layout, p: int, params: AlgorithmParams) -> dict[str, Any]:
    """Aggregate partition ``p``'s pairs into its in-adjacency; send out-weights to the engagers'
    partitions; flag its fresh accounts. Returns its share of the global scalars."""
    man = load_manifest(store, layout)
    if params.integrity is not None:
        return integrity_steps.build(store, layout, man, p, params)
    g = get_arrays(store, layout.part(p, "graph.npz"))
    lo = man.bounds[p]
    cand_all = np.unpackbits(get_arrays(store, layout.cand)["bits"], count=man.accounts).astype(bool)
    rows = numeric.build_rows(g, lo, cand_all, params, man.now)
    halo = rows.halo
    put_arrays(
        store,
        layout.part(p, "csr.npz"),
        indptr=rows.indptr,
        indices=rows.indices,
        weights=rows.weights,
        amp_frac=rows.amp_frac,
        pair_nodecay=rows.pair_nodecay,
        halo=halo,
        fresh=rows.fresh,
        tele_raw=rows.tele_raw,
        volume=rows.volume,
    )
    send_out_weights(store, layout, man, p, halo, rows.out_partial)
    return {
        "partition": p,
        "tele_sum": float(rows.tele_raw.sum()),
        "fresh": int(rows.fresh.sum()),
        "pairs": len(rows.indices),
        "halo": len(halo),
    }


def setup_scalars(
    man: Manifest, builds: list[dict[str, Any]], params: AlgorithmParams | None = None
) -> dict[str, Any]:
    """The global scalars of the solve from the partitions' build results."""
    if params is not None and params.integrity is not None:
        return integrity_steps.scalars(man, builds, params)
    return numeric.global_scalars(man.accounts, builds)


def setup_partition(
    store: Store, layout: Layout, p: int, params: AlgorithmParams, tele_sum: float
) -> dict[str, Any]:
    """Out-row scale and teleport of partition ``p``'s accounts (after every build), and its send plan:
    which of its rows each partition reads (the engagers of their halos), consumer by consumer."""
    man = load_manifest(store, layout)
    lo, hi = man.bounds[p], man.bounds[p + 1]
    n_p = hi - lo
    csr = get_arrays(store, layout.part(p, "csr.npz"))
    out_weight = np.zeros(n_p)
    send: list[np.ndarray] = []
    for q in range(man.partitions):
        key = layout.outw(p, q)
        if store.exists(key):
            part = get_arrays(store, key)
            np.add.at(out_weight, part["index"], part["value"])
            send.append(part["index"])
        else:
            send.append(np.zeros(0, np.int64))
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in send])]).astype(np.int64)
    send_rows = np.concatenate(send).astype(np.int64) if send else np.zeros(0, np.int64)
    if params.integrity is not None:  # tele_sum is the teleport normaliser (tele_norm) here
        terms = integrity_steps.setup_terms(store, layout, man, p, params, csr, out_weight, tele_sum)
    else:
        terms = numeric.setup_rows(out_weight, csr["fresh"], csr["tele_raw"], tele_sum, params)
    scale, teleport, passing = terms["scale"], terms["teleport"], terms["passing"]
    put_arrays(
        store,
        layout.part(p, "state.npz"),
        scale=scale,
        teleport=teleport,
        out_weight=out_weight,
        passing=passing,
        send_rows=send_rows,
    )
    store.put_bytes(layout.send_c(p), (teleport * scale)[send_rows].astype("<f8").tobytes())
    if params.integrity is not None:
        integrity_steps.write_static(store, layout, man, p, send_rows, passing)
    store.put_bytes(layout.offsets(p), offsets.astype("<i8").tobytes())
    return {"partition": p, "sends": int(offsets[-1])}


# --- iterations ------------------------------------------------------------------------------------


def iterate_partition(
    store: Store, layout: Layout, p: int, params: AlgorithmParams, k: int, betas: list[float]
) -> dict[str, Any]:
    """Pass ``k`` (>= 1) for partition ``p``: ``f = damping * A^T y`` from pass ``k-1``; also the
    residual of pass ``k-1`` on its rows. ``betas[j]`` is the teleport mass of pass ``j`` (betas[0] = 1)."""
    man = load_manifest(store, layout)
    csr = get_arrays(store, layout.part(p, "csr.npz"))
    state = get_arrays(store, layout.part(p, "state.npz"))
    y = halo_values(store, layout, man, p, csr["halo"], k - 1, betas[k - 1], f32=True)
    f = numeric.iterate_rows(csr, y, float(params.damping))
    put_arrays(store, layout.iterate(k, p), f=f)
    sent = (f * state["scale"])[state["send_rows"]]
    store.put_bytes(layout.send(k, p), sent.astype("<f8").tobytes())
    residual = None
    if k >= 2:
        x1 = own_x(store, layout, p, k - 1, betas[k - 1], state["teleport"])
        x0 = own_x(store, layout, p, k - 2, betas[k - 2], state["teleport"])
        residual = float(np.abs(x1 - x0).sum())
    return {"partition": p, "sum": float(f.sum()), "residual": residual}


def converge(
    k: int, betas: list[float], results: list[dict[str, Any]], params: AlgorithmParams
) -> dict[str, Any]:
    """The convergence check after pass ``k``: ``beta_k`` and whether pass ``k-1`` converged."""
    ordered = sorted(results, key=lambda r: r["partition"])
    residuals = [float(r["residual"]) for r in ordered] if k >= 2 else None
    return numeric.convergence(k, betas, [r["sum"] for r in ordered], residuals, params)


# --- components, per-profile raw, sketches -----------------------------------------------------------


def components_partition(
    store: Store,
    layout: Layout,
    p: int,
    params: AlgorithmParams,
    final: int,
    betas: list[float],
    unit: float,
    relative_accuracy: float = sketch.DEFAULT_ACCURACY,
    cap: float | None = None,
) -> dict[str, Any]:
    """Raw influence of partition ``p``'s accounts and profiles at the final iterate, and its sketch
    (of the calibration population, for the integrity versions)."""
    man = load_manifest(store, layout)
    g = get_arrays(store, layout.part(p, "graph.npz"))
    calibrated = None
    if params.integrity is not None:
        solve = {"final": final, "betas": betas, "unit": unit, "cap": cap}
        out = integrity_steps.components(store, layout, man, p, params, solve)
        comp, raw_account, ranks, z = out["comp"], out["raw_account"], out["ranks"], out["z"]
        extra = out["extra"]
        calibrated = extra["calibrated"]
    else:
        csr = get_arrays(store, layout.part(p, "csr.npz"))
        state = get_arrays(store, layout.part(p, "state.npz"))
        z = halo_values(store, layout, man, p, csr["halo"], final, betas[final], f32=False)
        # the global inflow total is the pull of the pass after the final one: its beta is known
        comp = numeric.partition_components(
            csr, z, state["teleport"], csr["volume"], unit, betas[final + 1], params
        )
        raw_account = comp.sum(axis=1)
        ranks = own_x(store, layout, p, final, betas[final], state["teleport"])
        extra = {}
    save_profile_results(
        store, layout, p, g["profile"], g["network"], comp, raw_account, ranks, z=z, unit=unit, extra=extra
    )
    raw_profile = get_arrays(store, layout.part(p, "result.npz"))["raw_profile"]
    population = raw_profile if calibrated is None else raw_profile[calibrated]
    sk = sketch.Sketch.of(population, relative_accuracy)
    put_arrays(store, layout.part(p, "sketch.npz"), **sk.to_arrays())
    return {"partition": p, "profiles": len(raw_profile), "max_raw": float(raw_profile.max(initial=0.0))}


def save_profile_results(
    store: Store,
    layout: Layout,
    p: int,
    profile: np.ndarray,
    network: np.ndarray,
    comp: np.ndarray,
    raw_account: np.ndarray,
    ranks: np.ndarray,
    z: np.ndarray | None = None,
    unit: float | None = None,
    extra: dict[str, np.ndarray] | None = None,
) -> None:
    n_prof = int(profile.max()) + 1 if len(profile) else 0
    raw_profile = np.bincount(profile, weights=raw_account, minlength=n_prof)
    comp_profile = np.stack([np.bincount(profile, weights=comp[:, k], minlength=n_prof) for k in range(3)], 1)
    nn = len(NETWORKS)
    key = profile * nn + network.astype(np.int64)
    raw_pn = np.bincount(key, weights=raw_account, minlength=n_prof * nn).reshape(n_prof, nn)
    present = np.bincount(key, minlength=n_prof * nn).reshape(n_prof, nn) > 0
    arrays: dict[str, np.ndarray] = {
        "raw_profile": raw_profile,
        "comp_profile": comp_profile.reshape(n_prof, 3),
        "raw_pn": raw_pn,
        "present": present,
        "comp": comp,
        "raw_account": raw_account,
        "ranks": ranks,
    }
    if z is not None:
        arrays["z"] = z
    if unit is not None:
        arrays["unit"] = np.array([unit])
    arrays |= extra or {}
    put_arrays(store, layout.part(p, "result.npz"), **arrays)


def calibrate(store: Store, layout: Layout, params: AlgorithmParams) -> dict[str, Any]:
    """Merge every partition's sketch into the calibration table of the version."""
    man = load_manifest(store, layout)
    merged = sketch.merge(
        sketch.Sketch.from_arrays(get_arrays(store, layout.part(p, "sketch.npz")))
        for p in range(man.partitions)
    )
    if params.integrity is not None:
        table = integrity_steps.calibrate_table(merged, params)
    else:
        table = merged.fit(params.target_mean, params.target_p95, params.calibration_knots)
    put_json(store, layout.calibration, table.to_dict())
    return {"knots": len(table.raw), "population": int(table.population), "buckets": len(merged.index)}


@dataclass(frozen=True)
class PartitionScores:
    """Calibrated scores of one partition's profiles (what the core's ScoreResult holds per profile)."""

    profile_ids: list[str]
    raw_profile: np.ndarray
    score: np.ndarray
    subscores: dict[str, np.ndarray]
    network_scores: np.ndarray


def partition_scores(
    store: Store, layout: Layout, p: int, table: Any, params: AlgorithmParams | None = None
) -> PartitionScores:
    """Scores of partition ``p``'s profiles under the table (``params``: those of the run; the
    integrity versions' rules need them)."""
    meta = get_json(store, layout.part(p, "meta.json"))
    res = get_arrays(store, layout.part(p, "result.npz"))
    raw = res["raw_profile"]
    if "band" in res:
        if params is None or params.integrity is None:
            raise ValueError("these results are of an integrity version: pass its parameters")
        out = integrity_steps.scores(res, table, params)
        return PartitionScores(meta["profiles"], raw, out["score"], out["subscores"], out["network_scores"])
    score = apply_calibration(raw, table)
    share = np.zeros(len(raw))
    np.divide(score, raw, out=share, where=raw > 0)
    subscores = {name: res["comp_profile"][:, k] * share for k, name in enumerate(SUBSCORES)}
    network_scores = np.where(res["present"], apply_calibration(res["raw_pn"], table), 0.0)
    return PartitionScores(meta["profiles"], raw, score, subscores, network_scores)


def load_table(store: Store, layout: Layout) -> Any:

    return CalibrationTable.from_dict(get_json(store, layout.calibration))


def explain_partition(
    store: Store,
    layout: Layout,
    p: int,
    params: AlgorithmParams,
    scores: PartitionScores,
    version: str,
    top_n: int = 5,
) -> dict[str, dict[str, Any]]:
    """``core.explain.explain`` for every linked profile of a partition, from the partition's own data
    (its rows, the halo's ``scale * x`` and the components): the same additive contributions."""

    man = load_manifest(store, layout)
    meta = get_json(store, layout.part(p, "meta.json"))
    csr = get_arrays(store, layout.part(p, "csr.npz"))
    res = get_arrays(store, layout.part(p, "result.npz"))
    g = get_arrays(store, layout.part(p, "graph.npz"))
    unit = float(res["unit"][0])
    d = params.damping
    digest = params_digest(params)
    halo, z = csr["halo"], res["z"]
    order = np.argsort(g["profile"], kind="stable")
    starts = np.searchsorted(g["profile"][order], np.arange(len(scores.profile_ids) + 1))
    wanted: dict[int, str] = {}
    drafts: dict[str, dict[str, Any]] = {}
    for i, pid in enumerate(scores.profile_ids):
        if pid.startswith("unlinked:"):
            continue
        score, raw = float(scores.score[i]), float(scores.raw_profile[i])
        factor = score / raw if raw > 0 else 0.0
        eng_pts: dict[int, list[float]] = {}
        networks: dict[int, dict[str, Any]] = {}
        reach_total = decay_lost = 0.0
        for a in order[starts[i] : starts[i + 1]].tolist():
            net = int(g["network"][a])
            entry = networks.setdefault(net, {"network": NETWORKS[net], "accounts": [], "points": 0.0})
            entry["accounts"].append(meta["ids"][a])
            reach_pts = float(res["comp"][a, 0]) * factor
            reach_total += reach_pts
            entry["points"] += reach_pts
            lo, hi = int(csr["indptr"][a]), int(csr["indptr"][a + 1])
            if hi == lo:
                continue
            u = csr["indices"][lo:hi].astype(np.int64)
            w = csr["weights"][lo:hi].astype(np.float64)
            base = unit * d * z[u]
            flow = base * w
            frac = csr["amp_frac"][lo:hi]
            vol = float(csr["volume"][a])
            amp = flow * frac / vol
            imp = np.maximum(flow * (1.0 - frac), 0.0)
            w0 = csr["pair_nodecay"][lo:hi] ** params.pair_exponent
            lost = base * np.maximum(w0 - w, 0.0) * (frac / vol + (1.0 - frac))
            decay_lost += float(lost.sum()) * factor
            entry["points"] += float((amp + imp).sum()) * factor
            for k, uu in enumerate(halo[u].tolist()):
                rec = eng_pts.setdefault(uu, [0.0, 0.0])
                rec[0] += float(amp[k]) * factor
                rec[1] += float(imp[k]) * factor
        ranked = sorted(eng_pts.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
        top = ranked[:top_n]
        for k, _ in top:
            wanted[k] = ""
        drafts[pid] = {
            "profile": pid,
            "score": score,
            "bucket": bucket_name(max(1.0, score)),
            "version": version,
            "params_digest": digest,
            "additivity": ADDITIVITY_RULE,
            "signals": {name: float(scores.subscores[name][i]) for name in SUBSCORES},
            "networks": [
                {
                    "network": e["network"],
                    "accounts": e["accounts"],
                    "points": float(e["points"]),
                    "score": float(scores.network_scores[i, code]),
                }
                for code, e in sorted(networks.items())
            ],
            "reach_points": reach_total,
            "top_engagers": [
                {
                    "account": k,
                    "points": round(v[0] + v[1], 6),
                    "amplification": round(v[0], 6),
                    "network_impact": round(v[1], 6),
                }
                for k, v in top
            ],
            "other_engagers_points": sum(v[0] + v[1] for _, v in ranked[top_n:]),
            "unique_engagers": len(eng_pts),
            "decay": {
                "half_life_days": params.half_life_days,
                "points_lost_estimate": decay_lost,
                "note": "first-order estimate of the points the same engagements would add without decay",
            },
        }
    # account keys of the top engagers, from the partitions that own them
    ids_needed = np.array(sorted(wanted), dtype=np.int64)
    cuts = np.searchsorted(ids_needed, man.bounds)
    for q in range(man.partitions):
        a, b = int(cuts[q]), int(cuts[q + 1])
        if b > a:
            q_ids = meta["ids"] if q == p else get_json(store, layout.part(q, "meta.json"))["ids"]
            for gid in ids_needed[a:b].tolist():
                wanted[gid] = q_ids[gid - man.bounds[q]]
    for draft in drafts.values():
        for e in draft["top_engagers"]:
            e["account"] = wanted[e["account"]]
    return drafts
