"""``renown evaluate`` end to end on small sizes: table, JSON, docs with figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from renown.cli import main


def test_json_and_docs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "evaluate",
        "--quick",
        "--no-higgs",
        "--version",
        "v1",
        "--version",
        "v2",
        "--only",
        "swap",
        "--only",
        "hub",
        "--only",
        "drop",
        "--json",
        "--write-docs",
        "--docs-root",
        str(tmp_path),
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["versions"] == ["v1", "v2"]
    keys = {(c["key"], c["version"]) for c in out["cases"]}
    assert ("collusion.swap", "v2") in keys and ("breadth.edge_drop", "v1") in keys
    page = (tmp_path / "docs" / "evaluation.md").read_text()
    assert "| case | bound | v1 | holds | v2 | holds |" in page
    assert (tmp_path / "docs" / "figures" / "evaluation-attack-gains.png").stat().st_size > 1000
    assert (tmp_path / "docs" / "figures" / "evaluation-edge-drops.png").exists()


def test_table_and_unknown_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--quick", "--no-higgs", "--only", "volume"]) == 0
    text = capsys.readouterr().out
    assert "volume: same reactions" in text and "v1" in text and "yes" in text
    assert main(["evaluate", "--version", "nope", "--no-higgs"]) == 2
