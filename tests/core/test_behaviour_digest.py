"""Bit-for-bit guard of the model's behaviour: sha256 digests of the float64 outputs of every place the
model runs (the core's single solve, the partitioned solve, the incremental updaters), on fixed inputs.

The digests in ``behaviour_digests.json`` were made from the code before the model was gathered into
``core.model``; a refactor that moves code must leave them unchanged. A deliberate change of the model
regenerates them (``RENOWN_UPDATE_DIGESTS=1 pytest tests/core/test_behaviour_digest.py``) and says so
in its commit. Digests are of this machine's floating point (numba compiles for the host CPU).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.scoring import score_population
from core.versions import get_version

HERE = Path(__file__).resolve().parent
DIGESTS = HERE / "behaviour_digests.json"
UPDATE = bool(os.environ.get("RENOWN_UPDATE_DIGESTS"))


def sha(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
    return h.hexdigest()


def result_digests(result: Any) -> dict[str, str]:
    return {
        "score": sha(result.score),
        "raw_profile": sha(result.raw_profile),
        "raw_account": sha(result.raw_account),
        "ranks": sha(result.ranks),
        "components": sha(result.components),
        "network_scores": sha(result.network_scores),
        "iterations": str(result.iterations),
    }


def check(case: str, got: dict[str, str]) -> None:
    stored = json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}
    if UPDATE:
        stored[case] = got
        DIGESTS.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        return
    assert case in stored, f"no stored digests for {case}: run with RENOWN_UPDATE_DIGESTS=1"
    changed = {k: v for k, v in got.items() if stored[case].get(k) != v}
    assert not changed, f"{case}: outputs changed: {sorted(changed)}"


# --- (a) the synthetic test populations ------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_synthetic_population(version: str) -> None:
    from tests.core.synth import NOW, population

    eng, acc = population()
    check(f"synth-{version}", result_digests(score_population(eng, acc, version, now=NOW)))


def test_synthetic_population_warm_start_and_fresh() -> None:
    from renown.simulate import NOW, generate

    eng, acc = generate(1200, 15_000, seed=3)  # with fresh accounts and linked profiles
    first = score_population(eng, acc, "v2", now=NOW)
    again = score_population(eng, acc, "v2", now=NOW + 3 * 86400.0, previous=first.ranks)
    check("generate-v2", result_digests(first) | {"graph_fresh": sha(first.graph.fresh)})
    check("generate-v2-warm", result_digests(again))


# --- (b) the Higgs networks, read as ``renown score`` reads them ----------------------------------------


@pytest.mark.parametrize(("name", "etype"), [("reply", "reply"), ("mention", "mention")])
def test_higgs(higgs_dir: Path, name: str, etype: str) -> None:
    from core.io import read_edge_files

    eng, acc = read_edge_files([higgs_dir / f"{name}_network.edgelist"], default_type=etype)
    check(f"higgs-{name}", result_digests(score_population(eng, acc, get_version("v1"))))


# --- (c) the partitioned solve ------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_partitioned(tmp_path: Path, version: str) -> None:
    from functions.rescore import partitioned_solve
    from functions.rescore.artifacts import DirArtifactStore, Layout, get_arrays, get_json
    from renown.simulate import NOW, generate, run_partitioned

    eng, acc = generate(1500, 20_000, seed=5)
    params = get_version(version)
    store, layout = DirArtifactStore(tmp_path), Layout("runs/d")
    partitioned_solve.partition_population(store, layout, eng, acc, params, NOW, 4)
    figures = run_partitioned(store, layout, params)
    table = partitioned_solve.load_table(store, layout)
    got: dict[str, str] = {"iterations": str(figures["iterations"]), "unit": repr(figures["unit"])}
    for p in range(4):
        csr = get_arrays(store, layout.part(p, "csr.npz"))
        state = get_arrays(store, layout.part(p, "state.npz"))
        res = get_arrays(store, layout.part(p, "result.npz"))
        for key in ("weights", "amp_frac", "pair_nodecay", "fresh", "tele_raw", "volume"):
            got[f"p{p}.csr.{key}"] = sha(csr[key])
        for key in ("scale", "teleport", "out_weight"):
            got[f"p{p}.state.{key}"] = sha(state[key])
        for key in ("raw_profile", "comp", "ranks", "z"):
            got[f"p{p}.result.{key}"] = sha(res[key])
        scores = partitioned_solve.partition_scores(store, layout, p, table)
        got[f"p{p}.score"] = sha(scores.score)
        got[f"p{p}.network_scores"] = sha(scores.network_scores)
    got["calibration"] = hashlib.sha256(
        json.dumps(get_json(store, layout.calibration), sort_keys=True).encode()
    ).hexdigest()
    check(f"partitioned-{version}", got)


# --- (d) the incremental updaters -----------------------------------------------------------------------


def _edge_items(rng: np.random.Generator, authors: int, engagers: int) -> list[list[dict[str, Any]]]:
    from core.types import ENGAGEMENT_TYPES
    from functions.shared.records import DECAY_EPOCH, DECAY_HALF_LIFE_S

    rows = []
    for _a in range(authors):
        edges = []
        for u in rng.choice(engagers, size=int(rng.integers(1, 12)), replace=False).tolist():
            item: dict[str, Any] = {"engager_id": f"u{u}"}
            for name in rng.choice(ENGAGEMENT_TYPES, size=int(rng.integers(1, 4)), replace=False).tolist():
                count = int(rng.integers(1, 6))
                ts = DECAY_EPOCH + rng.uniform(-40, 400, size=count) * 86400.0
                item["c_" + name] = count
                item["d_" + name] = float(np.sum(2.0 ** ((ts - DECAY_EPOCH) / DECAY_HALF_LIFE_S)))
            edges.append(item)
        rows.append(edges)
    return rows


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_ingest_incremental(version: str) -> None:
    from functions.ingest import incremental as inc
    from functions.shared.records import DECAY_EPOCH

    rng = np.random.default_rng(11)
    params = get_version(version)
    now = DECAY_EPOCH + 410 * 86400.0
    t0 = now - 5 * 86400.0
    engagers = {
        f"u{u}": inc.RankState(
            x=float(rng.uniform(0.1, 5.0)),
            tele=float(rng.uniform(0.05, 1.0)),
            s0=float(rng.uniform(0.0, 8.0)) if u % 7 else 0.0,
            t0=t0,
            passing=float(params.fresh_out_factor) if u % 11 == 0 else 1.0,
            base={f"a{k}": float(rng.uniform(0.0, 3.0)) for k in range(int(rng.integers(0, 3)))},
            current={f"a{k}": float(rng.uniform(0.0, 4.0)) for k in range(int(rng.integers(0, 4)))},
        )
        for u in range(40)
    }
    values: list[float] = []
    for edges in _edge_items(rng, 60, 45):  # some engagers have no state
        for edge in edges:
            values += inc.pair_counts(edge, params, now)
            values += inc.pair_counts(edge, params, now, clamp=False)
            values += inc.pair_counts(edge, params, DECAY_EPOCH - 30 * 86400.0)
            values.append(inc.pair_weight(values[-6], params.pair_exponent))
            for name, value in edge.items():
                if name.startswith("c_"):
                    values.append(inc.effective_time(float(value), float(edge["d_" + name[2:]])))
        inflow, amp = inc.author_row(edges, engagers, params, now)
        posts = float(rng.integers(0, 400))
        vol = inc.volume(posts, params)
        prev = inc.RankState(x=1.0, tele=float(rng.uniform(0.1, 1.0)), s0=1.0, t0=t0)
        new = inc.author_state(prev, inflow, amp, vol, params)
        values += [inflow, amp, vol, new.x, new.raw, new.reach, new.amp, new.impact]
    for state in engagers.values():
        values.append(state.out_weight(params, now))
        values.append(state.out_weight(params, t0))
    values += [inc.effective_time(0, 1.0), inc.effective_time(3, 0.0), inc.volume(0, params)]
    check(f"ingest-incremental-{version}", {"values": sha(values), "n": str(len(values))})


def test_core_incremental() -> None:
    from core.incremental import make_state, update_scores
    from core.types import Engagements
    from tests.core.synth import NOW, population

    eng, acc = population(600, 8000, seed=9)
    result = score_population(eng, acc, "v1", now=NOW)
    state = make_state(result)
    rng = np.random.default_rng(2)
    new = Engagements.from_arrays(
        rng.integers(0, 600, 80), rng.integers(0, 600, 80), rng.integers(1, 3, 80), rng.integers(0, 8, 80),
        NOW - rng.uniform(0, 20, 80) * 86400.0,
    )  # fmt: skip
    x, touched, err = update_scores(state, new)
    check(
        "core-incremental",
        {"ranks": sha(x), "touched": sha(touched), "err": repr(err), "scale": sha(state.scale),
         "out_weight": sha(state.out_weight)},
    )  # fmt: skip
