"""No rescoring task and no ingest task compiles numba code at a cold start: every kernel a task runs
loads from the ScoringLayer's shipped cache (``tests/deploy/measure_task_compiles.py`` lays the layers
and the function code out as Lambda does and runs each task in a fresh process)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.deploy.measure_task_compiles import measure

pytestmark = pytest.mark.slow


def test_no_task_compiles_at_cold_start(local_layers: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("laying the layers out at /opt/python needs root")
    busy = [p for p in ("/opt/python", "/opt/renown") if os.path.lexists(p)]
    if busy:
        pytest.skip(f"{', '.join(busy)} exist (another measurement is using them)")
    results = measure(tmp_path, sys.executable, local_layers)
    assert set(results) >= {
        "solve_single",
        "build",
        "setup",
        "iterate",
        "converge",
        "components",
        "calibrate",
    }
    for task, r in results.items():
        assert "error" not in r, (task, r)
        assert not r["compiled"], f"{task} compiled at its cold start: {r['compiled']}"
    for task in ("solve_single", "build", "iterate", "components"):
        assert results[task]["loaded"] >= 1, (task, results[task])
    assert not results["ingest"]["numba"], "the ingest path imports numba"
