"""The partitioned solve of an integrity version (v3) equals the core's single solve: scores, flags,
explanations with their counterfactuals, influencers and influencees, whatever the partitioning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.explain import explain, influence_all
from core.scoring import ScoreResult, score_population
from core.types import Accounts, Engagements
from core.versions import get_version
from functions.rescore import integrity_steps, partitioned_solve
from functions.rescore.artifacts import DirArtifactStore, Layout, get_arrays
from functions.rescore.solve import influence_links
from renown.simulate import DAY, NOW, compare, generate, run_partitioned

V3 = get_version("v3")


def _timed(engagements: Engagements, accounts: Accounts, seed: int) -> tuple[Engagements, Accounts]:
    """The generated population with a 200-day history (first-seen times decide who is established),
    creation times reported for half the accounts, and some engagement returned (mutual pairs)."""
    rng = np.random.default_rng(seed)
    m = len(engagements)
    ts = NOW - rng.uniform(0, 200, size=m) * DAY
    back = rng.random(m) < 0.15
    src = np.concatenate([engagements.src, engagements.dst[back]])
    dst = np.concatenate([engagements.dst, engagements.src[back]])
    created = np.where(rng.random(accounts.n_accounts) < 0.5, accounts.created, np.nan)
    eng = Engagements(
        src,
        dst,
        np.concatenate([engagements.weight, engagements.weight[back]]),
        np.concatenate([engagements.etype, engagements.etype[back]]),
        np.concatenate([ts, ts[back]]),
    )
    acc = Accounts(
        accounts.ids,
        accounts.network,
        accounts.profile,
        accounts.followers,
        accounts.posts,
        created,
        accounts.profile_ids,
    )
    return eng, acc


@pytest.fixture(scope="module")
def populations() -> dict[str, tuple[Engagements, Accounts, ScoreResult]]:
    out = {}
    untimed = generate(1200, 12_000, seed=5)  # 60 days of times: creation times decide
    for name, (eng, acc) in {"untimed": untimed, "timed": _timed(*untimed, seed=6)}.items():
        out[name] = (eng, acc, score_population(eng, acc, V3, now=NOW))
    return out


def _run(tmp_path: Path, eng: Engagements, acc: Accounts, partitions: int) -> tuple[Any, Layout, dict]:
    store, layout = DirArtifactStore(tmp_path), Layout("runs/v3")
    partitioned_solve.partition_population(store, layout, eng, acc, V3, NOW, partitions)
    figures = run_partitioned(store, layout, V3)
    return store, layout, figures


@pytest.mark.parametrize(("population", "partitions"), [("timed", 1), ("timed", 3), ("untimed", 6)])
def test_partitioned_v3_equals_the_single_solve(
    tmp_path: Path, populations: dict, population: str, partitions: int
) -> None:
    eng, acc, ref = populations[population]
    detail = ref.integrity
    assert detail is not None
    # the rules are at work in this population: new accounts, mutual pairs, linked accounts
    assert (detail.established < 0.5).sum() > 0 and detail.mutual.sum() > 0
    store, layout, figures = _run(tmp_path, eng, acc, partitions)
    assert figures["cap"] == pytest.approx(detail.cap, rel=1e-6)
    result = compare(store, layout, eng, acc, V3)
    assert result["max_rel_raw_diff"] < 1e-4
    assert result["max_abs_score_diff"] <= 0.01
    assert result["max_network_score_diff"] <= 0.01
    # the same flags: established accounts, mutual pairs, engagers, the calibration population
    man = partitioned_solve.load_manifest(store, layout)
    index = {pid: i for i, pid in enumerate(acc.profile_ids)}
    established = calibrated = mutual = 0
    for p in range(man.partitions):
        csr = get_arrays(store, layout.part(p, "csr.npz"))
        res = get_arrays(store, layout.part(p, "result.npz"))
        pids = partitioned_solve.get_json(store, layout.part(p, "meta.json"))["profiles"]
        rows = np.array([index[pid] for pid in pids], dtype=np.int64)
        assert np.array_equal(res["calibrated"], detail.calibrated[rows])
        established += int((csr["established"] >= 0.5).sum())
        calibrated += int(res["calibrated"].sum())
        mutual += int(csr["mutual"].sum())
    assert established == int((detail.established >= 0.5).sum())
    assert calibrated == int(detail.calibrated.sum())
    assert mutual == int(detail.mutual.sum())


def _links_of(ref: ScoreResult, eng: Engagements, acc: Accounts) -> dict[str, dict[str, Any]]:
    links = influence_all(ref, eng, acc)
    return {pid: influence_links(links.get(i), acc) for i, pid in enumerate(acc.profile_ids)}


def _as_map(entries: list[dict[str, Any]]) -> dict[str, tuple[float, dict[str, int]]]:
    return {e["profile_id"]: (e["weight"], e["interactions"]) for e in entries}


@pytest.mark.parametrize("partitions", [4])
def test_partitioned_v3_explanations_and_influence(
    tmp_path: Path, populations: dict, partitions: int
) -> None:
    eng, acc, ref = populations["timed"]
    store, layout, figures = _run(tmp_path, eng, acc, partitions)
    man = partitioned_solve.load_manifest(store, layout)
    table = partitioned_solve.load_table(store, layout)
    solve = {"unit": figures["unit"], "cap": figures["cap"], "iterations": figures["iterations"]}
    expected_links = _links_of(ref, eng, acc)
    index = {pid: i for i, pid in enumerate(acc.profile_ids)}
    compared = with_links = 0
    for p in range(man.partitions):
        scores = partitioned_solve.partition_scores(store, layout, p, table, V3)
        ours = integrity_steps.explain_partition(store, layout, man, p, V3, table, scores, solve, "v3")
        for pid, mine in ours.items():
            i = index[pid]
            if i % 12 and not mine["influencees"]:  # one profile in twelve, and every one with influencees
                continue
            core = explain(ref, eng, acc, i)
            assert mine["score"] == pytest.approx(core["score"], abs=0.01)
            assert mine["calibrated"] == core["calibrated"]
            assert [r["rule"] for r in mine["rules"]] == [r["rule"] for r in core["rules"]]
            # the same top engagers (those that add points: engagers adding none tie, in any order)
            assert [e["points"] for e in mine["top_engagers"]] == pytest.approx(
                [e["points"] for e in core["top_engagers"]], abs=1e-3
            )
            theirs = {e["account"]: e for e in core["top_engagers"] if e["points"] > 0}
            for e in mine["top_engagers"]:
                if e["points"] > 0:
                    assert e["score_without"] == pytest.approx(
                        theirs[e["account"]]["score_without"], abs=0.01
                    )
                    assert e["by_type"] == theirs[e["account"]]["by_type"]
            for side in ("influencers", "influencees"):
                want, got = _as_map(expected_links[pid][side]), _as_map(mine[side])
                assert set(got) == set(want), (pid, side)
                for other, (weight, interactions) in got.items():
                    assert weight == pytest.approx(want[other][0], abs=0.01)
                    assert interactions == want[other][1]
                with_links += len(got)
            compared += 1
    assert compared > acc.n_profiles // 12 and with_links > 300
