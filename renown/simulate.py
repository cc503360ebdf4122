"""Local simulation of the distributed rescore (``python -m renown.simulate``).

Generates a population (default 1M profiles, 20M engagement rows, several networks, some fresh
accounts), runs the partitioned solve of :mod:`functions.rescore.partitioned_solve` through a directory store
with the same steps the state machine runs (snapshot partitions -> build -> setup -> passes with the
convergence check -> components -> merged sketches -> calibrated scores), then the core's
single-machine ``score_population`` on the same data, and compares the calibrated scores per profile.
Prints the figures quoted in ``docs/scale.md`` (sizes per partition, time per step, bytes exchanged).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.scoring import score_population
from core.types import NETWORKS, Accounts, Engagements
from core.versions import AlgorithmParams, resolve
from functions.rescore import integrity_steps, partitioned_solve
from functions.rescore.artifacts import ArtifactStore, DirArtifactStore, Layout

NOW = 1_750_000_000.0
DAY = 86400.0


def generate(profiles: int, edges: int, seed: int = 11) -> tuple[Engagements, Accounts]:
    """Power-law engagement population: ``profiles`` people, 20% of them with a second account on
    another network, 1% fresh accounts, ``edges`` engagement rows over 60 days."""
    rng = np.random.default_rng(seed)
    second = rng.random(profiles) < 0.2
    n = profiles + int(second.sum())
    profile = np.concatenate([np.arange(profiles), np.flatnonzero(second)]).astype(np.int64)
    network = np.concatenate(
        [np.zeros(profiles, np.uint8), rng.integers(1, 6, size=int(second.sum())).astype(np.uint8)]
    )
    pop = rng.pareto(1.2, size=n) + 0.05
    act = rng.pareto(1.5, size=n) + 0.2
    dst = rng.choice(n, size=edges, p=pop / pop.sum())
    src = rng.choice(n, size=edges, p=act / act.sum())
    etype = rng.choice(8, size=edges, p=[0.45, 0.15, 0.1, 0.1, 0.02, 0.05, 0.05, 0.08]).astype(np.uint8)
    ts = NOW - rng.uniform(0, 60, size=edges) * DAY
    weight = rng.integers(1, 4, size=edges).astype(np.float64)
    followers = np.floor(pop * rng.uniform(20, 200, size=n))
    fresh = rng.random(n) < 0.01
    followers[fresh] = 0
    posts = rng.integers(0, 200, size=n).astype(np.float64)
    created = NOW - rng.uniform(200, 3000, size=n) * DAY
    created[fresh] = NOW - rng.uniform(0, 20, size=int(fresh.sum())) * DAY
    accounts = Accounts(
        ids=[f"{NETWORKS[int(network[i])]}:{i}" for i in range(n)],
        network=network,
        profile=profile,
        followers=followers,
        posts=posts,
        created=created,
        profile_ids=[f"p{i}" for i in range(profiles)],
    )
    engagements = Engagements(src.astype(np.int64), dst.astype(np.int64), weight, etype, ts)
    return engagements, accounts


def run_partitioned(
    store: ArtifactStore,
    layout: Layout,
    params: AlgorithmParams,
    on_step: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    """Every step of the distributed path, in-process, in the order of the state machine (the Map
    states run their items one after the other here). Returns per-step times and the iterations."""
    man = partitioned_solve.load_manifest(store, layout)
    parts = range(man.partitions)
    times: dict[str, float] = {}

    def step(name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = fn()
        times[name] = times.get(name, 0.0) + time.perf_counter() - t0
        if on_step:
            on_step(name, times[name])
        return out

    builds = step(
        "build", lambda: [partitioned_solve.build_partition(store, layout, p, params) for p in parts]
    )
    scalars = partitioned_solve.setup_scalars(man, builds, params)
    tele = scalars.get("tele_norm", scalars["tele_sum"])
    step("setup", lambda: [partitioned_solve.setup_partition(store, layout, p, params, tele) for p in parts])
    state: dict[str, Any] = {"k": 1, "betas": [1.0], "done": False}
    read0 = (getattr(store, "read_bytes", 0), getattr(store, "reads", 0))
    while not state["done"]:
        k = state["k"]
        betas: list[float] = state["betas"]

        def one_pass(k: int = k, betas: list[float] = betas) -> list[dict[str, Any]]:
            return [partitioned_solve.iterate_partition(store, layout, p, params, k, betas) for p in parts]

        results = step("iterate", one_pass)
        state = partitioned_solve.converge(k, state["betas"], results, params)
    final = int(state["final"])
    passes = state["k"] - 1
    cap = None
    if params.integrity is not None:  # the cap's rounds (the loop's extra passes in the workflow)
        solve = state | {"unit": scalars["unit"]} | integrity_steps.start_cap(state, params)
        while not solve["done"]:

            def cap_round(solve: dict[str, Any] = solve) -> list[dict[str, Any]]:
                return [integrity_steps.cap_round(store, layout, man, p, params, solve) for p in parts]

            step("cap", cap_round)
            solve |= integrity_steps.cap_merge(store, layout, man, solve)
        cap = float(solve["cap"])
    read_pass = (getattr(store, "read_bytes", 0) - read0[0]) / passes
    gets_pass = (getattr(store, "reads", 0) - read0[1]) / passes
    step(
        "components",
        lambda: [
            partitioned_solve.components_partition(
                store, layout, p, params, final, state["betas"], scalars["unit"], cap=cap
            )
            for p in parts
        ],
    )
    step("calibrate", lambda: partitioned_solve.calibrate(store, layout, params))
    return {
        "cap": cap,
        "iterations": final,
        "pulls": state["k"] - 1,
        "residual": state["residual"],
        "unit": scalars["unit"],
        "times_s": {k: round(v, 2) for k, v in times.items()},
        "halo_max": max(b["halo"] for b in builds),
        "halo_total": sum(b["halo"] for b in builds),
        "read_bytes_per_pass": int(read_pass),
        "reads_per_pass": int(gets_pass),
        "pairs_max": max(b["pairs"] for b in builds),
    }


def compare(
    store: ArtifactStore,
    layout: Layout,
    engagements: Engagements,
    accounts: Accounts,
    params: AlgorithmParams,
) -> dict[str, Any]:
    """The core's single-machine solve against the partitioned scores, per profile."""
    t0 = time.perf_counter()
    reference = score_population(engagements, accounts, params, now=NOW)
    single_s = time.perf_counter() - t0
    man = partitioned_solve.load_manifest(store, layout)
    table = partitioned_solve.load_table(store, layout)
    index = {pid: i for i, pid in enumerate(accounts.profile_ids)}
    diffs = np.zeros(accounts.n_profiles)
    raw_rel = np.zeros(accounts.n_profiles)
    net_diff = 0.0
    for p in range(man.partitions):
        scores = partitioned_solve.partition_scores(store, layout, p, table, params)
        rows = np.array([index[pid] for pid in scores.profile_ids], dtype=np.int64)
        if len(rows) == 0:
            continue
        diffs[rows] = np.abs(scores.score - reference.score[rows])
        ref_raw = reference.raw_profile[rows]
        raw_rel[rows] = np.abs(scores.raw_profile - ref_raw) / np.maximum(ref_raw, 1e-300)
        net_diff = max(net_diff, float(np.abs(scores.network_scores - reference.network_scores[rows]).max()))
    return {
        "single_machine_s": round(single_s, 2),
        "single_iterations": int(reference.iterations),
        "max_abs_score_diff": float(diffs.max()),
        "mean_abs_score_diff": float(diffs.mean()),
        "share_within_0.01": float((diffs <= 0.01).mean()),
        "max_rel_raw_diff": float(raw_rel.max()),
        "max_network_score_diff": net_diff,
        "reference_knots": len(reference.calibration.raw),
        "sketch_knots": len(table.raw),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=20_000_000)
    parser.add_argument("--partitions", type=int, default=64)
    parser.add_argument("--version", default="v2")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    params = resolve(args.version)
    root = args.dir or Path(tempfile.mkdtemp(prefix="renown-sim-"))
    store = DirArtifactStore(root)
    layout = Layout("runs/sim")
    figures: dict[str, Any] = {"profiles": args.profiles, "edges": args.edges, "partitions": args.partitions}
    try:
        t0 = time.perf_counter()
        engagements, accounts = generate(args.profiles, args.edges)
        figures["accounts"] = accounts.n_accounts
        figures["generate_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        partitioned_solve.partition_population(
            store, layout, engagements, accounts, params, NOW, args.partitions
        )
        figures["snapshot_partition_s"] = round(time.perf_counter() - t0, 2)
        print(f"partitioned in {figures['snapshot_partition_s']} s", flush=True)
        figures |= run_partitioned(
            store, layout, params, on_step=lambda name, s: print(f"  {name}: {s:.1f} s", flush=True)
        )
        sizes = [(root / layout.part(p, "csr.npz")).stat().st_size for p in range(args.partitions)]
        figures["csr_bytes_max"] = max(sizes)
        figures["csr_bytes_total"] = sum(sizes)
        figures["store_bytes_total"] = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        figures |= compare(store, layout, engagements, accounts, params)
        figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    ok = figures["max_abs_score_diff"] <= 0.01
    print("EQUAL to 0.01" if ok else "DIFFERENT")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
