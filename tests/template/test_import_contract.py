"""The import contract (``[tool.importlinter]`` in pyproject.toml) holds on the tree, and breaks when a
forbidden import is written into a copy of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_tree(target: Path) -> Path:
    for package in ("core", "functions", "renown"):
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_tree_keeps_the_contract() -> None:
    answer = lint_imports(ROOT)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "0 broken" in answer.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("functions/ingest/score_updater.py", "functions.rescore.report", "never import each other"),
        ("functions/api/deps.py", "functions.rescore.releases", "imports neither ingest nor rescore"),
        ("core/scoring.py", "functions.shared.keys", "core imports nothing from functions"),
    ],
)
def test_a_forbidden_import_breaks_the_check(
    tmp_path: Path, module: str, forbidden: str, contract: str
) -> None:
    tree = copy_tree(tmp_path)
    path = tree / module
    # inside a function: a lazy import counts as much as one at the top
    path.write_text(path.read_text() + f"\n\ndef _forbidden() -> None:\n    import {forbidden}  # noqa\n")
    answer = lint_imports(tree)
    assert answer.returncode != 0
    assert "BROKEN" in answer.stdout and contract in answer.stdout.replace("\n", " "), answer.stdout
