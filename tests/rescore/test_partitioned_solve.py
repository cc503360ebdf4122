"""The partitioned solve equals the core's single-machine solve, whatever the partitioning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.explain import explain
from core.scoring import score_population
from core.versions import get_version
from functions.rescore import partitioned_solve
from functions.rescore.artifacts import DirArtifactStore, Layout
from renown.simulate import NOW, compare, generate, run_partitioned


@pytest.fixture(scope="module")
def population() -> tuple:
    return generate(3000, 40_000, seed=5)


@pytest.mark.parametrize("partitions", [1, 3, 16])
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_partitioned_equals_single_machine(
    tmp_path: Path, population: tuple, partitions: int, version: str
) -> None:
    engagements, accounts = population
    params = get_version(version)
    store, layout = DirArtifactStore(tmp_path), Layout("runs/t")
    partitioned_solve.partition_population(store, layout, engagements, accounts, params, NOW, partitions)
    figures = run_partitioned(store, layout, params)
    result = compare(store, layout, engagements, accounts, params)
    # the core solves by block Gauss-Seidel, the partitions by Jacobi passes: the same fixed point
    assert figures["iterations"] >= result["single_iterations"]
    assert result["max_rel_raw_diff"] < 1e-3
    assert result["max_abs_score_diff"] <= 0.01
    assert result["max_network_score_diff"] <= 0.01


def test_fresh_accounts_are_flagged_as_in_the_core(tmp_path: Path, population: tuple) -> None:
    engagements, accounts = population
    params = get_version("v2")
    store, layout = DirArtifactStore(tmp_path), Layout("runs/f")
    partitioned_solve.partition_population(store, layout, engagements, accounts, params, NOW, 4)
    run_partitioned(store, layout, params)
    reference = score_population(engagements, accounts, params, now=NOW)
    assert reference.graph is not None and reference.graph.fresh.sum() > 0
    fresh = sum(
        int(partitioned_solve.get_arrays(store, layout.part(p, "csr.npz"))["fresh"].sum()) for p in range(4)
    )
    assert fresh == int(reference.graph.fresh.sum())


def test_partition_explanations_match_core_explain(tmp_path: Path, population: tuple) -> None:
    engagements, accounts = population
    params = get_version("v1")
    store, layout = DirArtifactStore(tmp_path), Layout("runs/e")
    partitioned_solve.partition_population(store, layout, engagements, accounts, params, NOW, 3)
    run_partitioned(store, layout, params)
    reference = score_population(engagements, accounts, params, now=NOW)
    table = partitioned_solve.load_table(store, layout)
    index = {pid: i for i, pid in enumerate(accounts.profile_ids)}
    scores = partitioned_solve.partition_scores(store, layout, 1, table)
    ours = partitioned_solve.explain_partition(store, layout, 1, params, scores, "v1")
    best = sorted(ours, key=lambda pid: -ours[pid]["score"])[:5]
    for pid in best:
        core = explain(reference, engagements, accounts, index[pid])
        mine = ours[pid]
        assert abs(mine["score"] - core["score"]) <= 0.01
        for name, points in core["signals"].items():
            assert abs(mine["signals"][name] - points) <= 0.01
        assert [e["account"] for e in mine["top_engagers"]] == [e["account"] for e in core["top_engagers"]]
        assert abs(mine["reach_points"] - core["reach_points"]) <= 0.01
        assert abs(sum(mine["signals"].values()) - mine["score"]) < 0.01


def test_converge_stops_with_the_core_iterate() -> None:
    params = get_version("v1")
    state = partitioned_solve.converge(1, [1.0], [{"partition": 0, "sum": 0.5, "residual": None}], params)
    assert state["betas"] == [1.0, 0.5] and not state["done"]
    done = partitioned_solve.converge(
        5, [1.0, 0.5, 0.5, 0.5, 0.5], [{"partition": 0, "sum": 0.5, "residual": 1e-9}], params
    )
    assert done["done"] and done["final"] == 4


def test_partition_of_is_stable() -> None:
    assert [partitioned_solve.partition_of(f"p{i}", 7) for i in range(5)] == [
        partitioned_solve.partition_of(f"p{i}", 7) for i in range(5)
    ]
    assert (
        np.bincount([partitioned_solve.partition_of(f"p{i}", 4) for i in range(4000)], minlength=4).min()
        > 800
    )
