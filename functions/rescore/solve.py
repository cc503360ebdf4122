"""The solve and calibrate states: the whole graph in one task (:func:`solve_single`, the core's
``score_population``) or partition by partition through S3 (:func:`build` ... :func:`components`, the
Distributed Map loop over :mod:`functions.rescore.partitioned_solve`); then :func:`calibrate` records the
version with its calibration table and the score updater's population constants."""

from __future__ import annotations

from typing import Any

import numpy as np

from core import model
from core.explain import explain, influence_all
from core.integrity import unengaged_table
from core.partitioned_integrity import profile_terms
from core.provisional import has_history
from core.scoring import score_population
from core.types import Accounts, Engagements
from core.versions import params_digest
from functions.rescore import integrity_steps, partitioned_solve, releases
from functions.rescore.artifacts import get_arrays, get_json, put_arrays, put_json
from functions.rescore.run import Run, artifact_store, check_partitions, maybe_fail, params_of, progress
from functions.shared.records import VersionRecord


def solve_single(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """The whole graph in one task with the core (``score_population``), written as partition 0."""
    progress(run, "solve", "single task")
    maybe_fail(run, "solve_single")
    store, layout = artifact_store(), run.layout
    g = get_arrays(store, layout.part(0, "graph.npz"))
    meta = get_json(store, layout.part(0, "meta.json"))
    accounts = Accounts(
        ids=meta["ids"],
        network=g["network"],
        profile=g["profile"],
        followers=g["followers"],
        posts=g["posts"],
        created=g["created"],
        profile_ids=meta["profiles"],
    )
    engagements = Engagements(g["src"], g["dst"], g["weight"], g["etype"], g["ts"])
    result = score_population(engagements, accounts, params_of(run), now=run.now)
    graph = result.graph
    assert graph is not None
    extra: dict[str, np.ndarray] = {}
    terms: dict[str, np.ndarray] = {}
    if (
        result.integrity is not None
    ):  # what the integrity rules score a profile by (partitioned_solve.partition_scores)
        row = np.repeat(np.arange(graph.csr.n), np.diff(graph.csr.indptr))
        extra["engagers"] = np.bincount(row, weights=result.integrity.pair_flow > 0, minlength=graph.csr.n)
        terms = profile_terms(
            accounts.profile,
            accounts.network,
            accounts.followers,
            result.integrity.established,
            result.raw_account,
            extra["engagers"],
            result.params,
        )
    partitioned_solve.save_profile_results(
        store,
        layout,
        0,
        accounts.profile,
        accounts.network,
        result.components,
        result.raw_account,
        result.ranks,
        extra=terms,
    )
    out_weight = graph.csr.out_weight
    if result.integrity is not None:  # v3: the rank an account relays follows how established it is
        passing = result.integrity.established
        # the selectivity of v3 counts an engager's pairs before the mutual discount (core.scoring)
        out_weight = np.bincount(
            graph.csr.indices,
            weights=model.pair_weights(graph.pair_count, result.params.pair_exponent),
            minlength=graph.csr.n,
        )
    else:
        passing = np.where(graph.fresh, result.params.fresh_out_factor, 1.0)
    put_arrays(
        store,
        layout.part(0, "state.npz"),
        scale=graph.scale,
        teleport=graph.teleport,
        out_weight=out_weight,
        passing=passing,
        c=graph.teleport * graph.scale,
        **extra,
    )
    put_json(store, layout.calibration, result.calibration.to_dict())
    links = influence_all(result, engagements, accounts)
    explanations = {
        pid: explain(result, engagements, accounts, i) | influence_links(links.get(i), accounts)
        for i, pid in enumerate(accounts.profile_ids)
        if not pid.startswith("unlinked:")
    }
    put_json(store, layout.part(0, "explain.json"), explanations)
    beta = float(result.components[:, 0].sum() / (result.params.reach_weight * graph.unit))
    if result.integrity is not None:  # v3: an account born after the pass is no trust seed
        tele_raw = np.zeros(accounts.n_accounts)
    else:
        tele_raw = (np.log1p(accounts.followers) + result.params.teleport_eps) * np.where(
            graph.fresh, result.params.fresh_teleport_factor, 1.0
        )
    integrity_state: dict[str, Any] = {}
    if result.integrity is not None:  # what the score updater's provisional v3 scores need
        integrity_state = {
            "cap": float(result.integrity.cap),
            "timed": has_history(engagements.ts, result.params),
        }
    return integrity_state | {
        "done": True,
        "iterations": int(result.iterations),
        "residual": float(result.residual),
        "unit": float(graph.unit),
        "beta": beta,
        "tele_sum": float(tele_raw.sum()),
    }


def influence_links(
    links: dict[str, list[dict[str, Any]]] | None, accounts: Accounts
) -> dict[str, list[dict[str, Any]]]:
    """A profile's influencers and influencees as the API serves them (profile id, points as weight,
    interactions by type)."""
    links = links or {}
    return {
        side: [
            {
                "profile_id": accounts.profile_ids[int(e["profile"])],
                "weight": float(e["points"]),
                "interactions": e["interactions"],
            }
            for e in links.get(side, [])
        ]
        for side in ("influencers", "influencees")
    }


def build(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    p = int(payload["partition"])
    maybe_fail(run, "build", p)
    return partitioned_solve.build_partition(artifact_store(), run.layout, p, params_of(run))


def setup_scalars(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    man = partitioned_solve.load_manifest(artifact_store(), run.layout)
    builds = check_partitions(payload.get("builds"), man.partitions, "build")
    scalars = partitioned_solve.setup_scalars(man, builds, params_of(run))
    progress(run, "solve", f"{man.partitions} partitions built")
    return scalars | {"k": 1, "betas": [1.0], "done": False}


def setup(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    p = int(payload["partition"])
    maybe_fail(run, "setup", p)
    solve = payload["solve"]
    # the integrity versions normalise the teleport by tele_norm (their tele_sum is the updater's, 0)
    tele = float(solve["tele_norm"] if "tele_norm" in solve else solve["tele_sum"])
    return partitioned_solve.setup_partition(artifact_store(), run.layout, p, params_of(run), tele)


def iterate(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    p = int(payload["partition"])
    solve = payload["solve"]
    maybe_fail(run, "iterate", p)
    if solve.get("phase") == "cap":  # the integrity versions' cap: a round of its selection
        store = artifact_store()
        man = partitioned_solve.load_manifest(store, run.layout)
        return integrity_steps.cap_round(store, run.layout, man, p, params_of(run), solve)
    return partitioned_solve.iterate_partition(
        artifact_store(), run.layout, p, params_of(run), int(solve["k"]), solve["betas"]
    )


def converge(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    solve = dict(payload["solve"])
    maybe_fail(run, "converge")
    store = artifact_store()
    man = partitioned_solve.load_manifest(store, run.layout)
    if solve.get("phase") == "cap":
        check_partitions(payload.get("passes"), man.partitions, "cap")
        state = integrity_steps.cap_merge(store, run.layout, man, solve)
        done = state.get("done", False)
        progress(run, "solve", f"cap, round {solve['selection']['round']}" + (" (done)" if done else ""))
        return solve | state
    if int(solve["k"]) == 1:
        check_partitions(payload.get("setups"), man.partitions, "setup")
    passes = check_partitions(payload.get("passes"), man.partitions, f"pass {solve['k']}")
    state = partitioned_solve.converge(int(solve["k"]), solve["betas"], passes, params_of(run))
    residual = state["residual"]
    text = f"pass {solve['k']}" + (f", residual {residual:.2e}" if residual is not None else "")
    progress(run, "solve", text + (" (converged)" if state["done"] else ""))
    params = params_of(run)
    if state["done"] and params.integrity is not None:  # the cap's rounds come next
        state |= integrity_steps.start_cap(solve, params)
    return solve | state | {"iterations": state["final"]}


def components(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    p = int(payload["partition"])
    solve = payload["solve"]
    maybe_fail(run, "components", p)
    return partitioned_solve.components_partition(
        artifact_store(),
        run.layout,
        p,
        params_of(run),
        int(solve["final"]),
        solve["betas"],
        float(solve["unit"]),
        cap=solve.get("cap"),
    )


def beta_of(solve: dict[str, Any]) -> float:
    """The solve's teleport share: given by the single task, the last pass's ``beta`` otherwise."""
    return float(solve.get("beta") or solve["betas"][int(solve["final"]) + 1])


def calibrate(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """Merge the partitions' sketches into the version's calibration table (the single task fitted it
    already) and record the version (status ``shadow`` unless it is the active one)."""
    solve = payload["solve"]
    progress(run, "calibrate")
    maybe_fail(run, "calibrate")
    store = artifact_store()
    params = params_of(run)
    info: dict[str, Any] = {}
    if not store.exists(run.layout.calibration):
        man = partitioned_solve.load_manifest(store, run.layout)
        check_partitions((payload.get("state") or {}).get("components"), man.partitions, "components")
        info = partitioned_solve.calibrate(store, run.layout, params)
        beta = float(solve["betas"][int(solve["final"]) + 1])
    else:
        beta = float(solve["beta"])
    table = partitioned_solve.load_table(store, run.layout)
    existing = releases.version_item(run.version)
    status = "active" if existing and existing.get("status") == "active" else "shadow"
    record = VersionRecord(
        version=run.version,
        status=status,
        params_digest=params_digest(params),
        calibration=table.to_dict(),
        unengaged=unengaged_table(params.integrity) if params.integrity is not None else {},
        created_at=int(existing["created_at"]) if existing and existing.get("created_at") else int(run.now),
        activated_at=int(existing["activated_at"]) if existing and existing.get("activated_at") else None,
    )
    releases.put_version(record, params.to_dict(), run.run_id)
    unit = float(solve["unit"])
    tele_sum = float(solve["tele_sum"])
    man = partitioned_solve.load_manifest(store, run.layout)
    releases.put_population(
        run.version,
        run.now,
        unit * beta / tele_sum if tele_sum > 0 else 0.0,
        man.accounts,
        beta,
        {name: solve[name] for name in ("cap", "timed") if name in solve},
    )
    return info | {"knots": len(table.raw), "beta": beta}
