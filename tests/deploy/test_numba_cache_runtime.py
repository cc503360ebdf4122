"""The ScoringLayer's numba cache loads in the runtime's interpreter without compiling anything.

A fresh ``python3.12`` process (the Lambda runtime's version: numba files its cache indexes per Python
version) with the layers at ``/opt/python`` and ``/opt/renown`` as Lambda unpacks them (read-only when
this process may bind-mount), the rescoring task's code as ``/var/task``: importing
``functions.rescore`` sets the shipped cache up, then the build's compile workload runs every kernel
variant the tasks use. numba must load each from the cache (``NUMBA_DEBUG_CACHE``: data loaded, never
saved) and count no cache miss.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.lambda_layout import LAYER_DIRS, ROOT, build_function, runtime_python

pytestmark = pytest.mark.slow

OPT = Path("/opt")
LINKS = ("python", "renown")

CHILD = r"""
import os, runpy, sys
import functions.rescore  # the package's first act: use_shipped_cache()
import core
assert core.__file__.startswith("/opt/python/core/"), core.__file__
assert os.environ["NUMBA_CPU_NAME"] == "generic", os.environ.get("NUMBA_CPU_NAME")
print("cache dir", os.environ["NUMBA_CACHE_DIR"])
sys.argv = ["warm_numba_cache.py", "check"]
runpy.run_path(sys.argv_workload, run_name="__main__")
"""


@pytest.fixture
def python312() -> str:
    python = runtime_python("3.12")
    if python is None:
        pytest.skip("no python3.12 here (PATH or pyenv): only the runtime's Python can load its cache")
    return python


@pytest.fixture
def lambda_opt(python312: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """``/opt/python`` and ``/opt/renown`` linked to a merge of the built layers, read-only if possible."""
    if os.geteuid() != 0:
        pytest.skip("laying the layers out at /opt/python needs root")
    busy = [str(OPT / name) for name in LINKS if (OPT / name).exists() or (OPT / name).is_symlink()]
    if busy:
        pytest.skip(f"{', '.join(busy)} exist (another measurement is using them)")
    target_layers: Path = request.getfixturevalue("target_layers")
    if not (target_layers / LAYER_DIRS["ScoringLayer"] / "renown" / "numba-cache").is_dir():
        pytest.skip("the ScoringLayer was built without its numba cache")
    merged = tmp_path / "opt"
    for subdir in LAYER_DIRS.values():
        subprocess.run(["cp", "-al", f"{target_layers / subdir}/.", str(merged)], check=True)
    bind = subprocess.run(["mount", "--bind", str(merged), str(merged)], capture_output=True)
    mounted = bind.returncode == 0
    if mounted:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(merged)], check=True)
    try:
        for name in LINKS:
            (OPT / name).symlink_to(merged / name)
        yield merged
    finally:
        for name in LINKS:
            if (OPT / name).is_symlink():
                (OPT / name).unlink()
        if mounted:
            subprocess.run(["umount", str(merged)], check=False)


def test_python312_loads_the_shipped_numba_cache_without_compiling(
    python312: str, lambda_opt: Path, tmp_path: Path
) -> None:
    python = python312
    task = build_function(tmp_path / "task", "RescoreTaskFunction", "3.12", python)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(task), "/opt/python"]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(tmp_path),
        "NUMBA_NUM_THREADS": "2",
        "NUMBA_DEBUG_CACHE": "1",
        "NUMBA_CACHE_DIR": str(tmp_path / "tmp-numba-cache"),  # Lambda's empty /tmp
    }
    workload = str(ROOT / "layers" / "warm_numba_cache.py")
    code = CHILD.replace("sys.argv_workload", repr(workload))
    proc = subprocess.run(
        [python, "-s", "-S", "-c", code], cwd=task, env=env, capture_output=True, text=True, timeout=600
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    lines = out.splitlines()
    loaded = [line for line in lines if line.startswith("[cache] data loaded")]
    saved = [line for line in lines if line.startswith("[cache] data saved") or "index saved" in line]
    assert "misses: 0" in out, out[-3000:]
    assert not saved, f"numba compiled in python3.12: {saved[:5]}"
    assert len(loaded) >= 10, out[-3000:]
    print(f"python3.12 ({python}): {len(loaded)} kernels loaded from the shipped cache, 0 compiled")
