"""The layers build from the lock without Docker, and every function plus its layers fits Lambda."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.lambda_layout import (
    LAYER_DIRS,
    ROOT,
    UNZIPPED_LIMIT,
    build_function,
    functions_and_layers,
    runtime_python,
    tree_size,
)

pytestmark = pytest.mark.slow


def _extras(layer: Path) -> int:
    """Bytes the build adds when the runtime's python is there: bytecode and the numba cache."""
    pyc = sum(p.stat().st_size for p in layer.rglob("*.pyc"))
    return pyc + (tree_size(layer / "renown") if (layer / "renown").exists() else 0)


def test_every_function_with_its_layers_fits_unzipped(
    target_layers: Path, local_layers: Path, tmp_path: Path
) -> None:
    code = tree_size(build_function(tmp_path / "task"))
    sizes = {}
    for layer_id, subdir in LAYER_DIRS.items():
        size = tree_size(target_layers / subdir)
        if not runtime_python("3.12"):
            # no python3.12 here: add what the 3.11 build's bytecode and numba cache weigh
            size += _extras(local_layers / subdir)
        sizes[layer_id] = size
    report = {}
    for function, spec in functions_and_layers().items():
        total = code + sum(sizes[layer] for layer in spec["layers"])
        report[function] = (spec["layers"], total)
        assert total < UNZIPPED_LIMIT, f"{function}: {total:,} bytes with {spec['layers']}"
    print({name: f"{total / 1e6:.1f} MB {layers}" for name, (layers, total) in report.items()})
    assert report["ScoreUpdaterFunction"][0] == ["DepsLayer", "ScoringLayer"]
    assert report["ApiFunction"][0] == ["DepsLayer"]


@pytest.mark.parametrize("package", ["boto3", "botocore", "s3transfer"])
def test_the_runtimes_sdk_is_not_vendored(target_layers: Path, tmp_path: Path, package: str) -> None:
    for subdir in LAYER_DIRS.values():
        assert not (target_layers / subdir / "python" / package).exists(), f"{package} in {subdir}"
    assert not (build_function(tmp_path / "task") / package).exists()


def test_nothing_lambda_never_loads(target_layers: Path) -> None:
    for subdir in LAYER_DIRS.values():
        python = target_layers / subdir / "python"
        assert not list(python.rglob("tests")), "test suites are trimmed"
        assert not list(python.rglob("*.h")), "headers are trimmed"
        assert not (python / "bin").exists()
    assert not (target_layers / LAYER_DIRS["DepsLayer"] / "python" / "pydantic" / "v1").exists()


def test_the_scoring_layer_loads_and_its_numba_cache_covers_every_kernel(local_layers: Path) -> None:
    """numpy's grafted openblas survives the trim (strip broke it once) and the relocated cache is
    filed where numba looks for /opt/python/core."""
    scoring = local_layers / "scoring"
    probe = "import numpy; assert numpy.ones(3) @ numpy.ones(3) == 3.0; import numba"
    env = {"PYTHONPATH": str(scoring / "python"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-s", "-S", "-c", probe], env=env, check=True)
    cache_subdir = runpy.run_path(str(ROOT / "layers" / "warm_numba_cache.py"))["cache_subdir"]
    cache = scoring / "renown" / "numba-cache" / cache_subdir("/opt/python/core")
    indexes = {p.name.split(".")[0] for p in cache.glob("*.nbi")}
    assert {"rank", "graph", "flow", "incremental"} <= {name.split("-")[0] for name in indexes}, indexes
