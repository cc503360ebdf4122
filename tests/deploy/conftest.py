"""Layer builds shared by the deploy tests (one per session; wheels come from uv's cache)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.deploy.lambda_layout import build_layers, missing_tools, runtime_python

LOCAL_PYVER = "{}.{}".format(*sys.version_info[:2])


@pytest.fixture(scope="session")
def target_layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layers as deployed (python3.12); without a python3.12 here, built with NUMBA_CACHE=skip."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"the layer build needs {', '.join(missing)} (not on this machine)")
    cache = "required" if runtime_python("3.12") else "skip"
    return build_layers(tmp_path_factory.mktemp("layers312"), "3.12", cache)


@pytest.fixture(scope="session")
def local_layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same layers for this machine's Python, with bytecode and the numba cache (loadable here)."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"the layer build needs {', '.join(missing)} (not on this machine)")
    return build_layers(tmp_path_factory.mktemp(f"layers{LOCAL_PYVER}"), LOCAL_PYVER, "required")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """All deploy tests on one xdist worker (``--dist loadgroup``): the layer builds are per-session
    fixtures, so tests spread over two workers would build every layer twice."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.xdist_group("layer-builds"))
