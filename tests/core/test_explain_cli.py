"""``renown score`` with v3 outputs (manifest, stored calibration) and ``renown explain``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from renown.cli import main

DAY = 86400.0
NOW = 1_750_000_000.0


@pytest.fixture
def edges(tmp_path):
    """A small timed population: 40 authors, 200 engagers, over 200 days."""
    rng = np.random.default_rng(4)
    lines = []
    for _ in range(3000):
        src = int(rng.integers(100, 300))
        dst = int(rng.zipf(1.6)) % 40
        lines.append(f"{src} {dst} 1 like {NOW - rng.uniform(0, 200) * DAY:.0f}")
    path = tmp_path / "edges.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_manifest_and_stored_calibration(edges, tmp_path):
    out = tmp_path / "scores.csv"
    assert (
        main(["score", str(edges), "--version", "v3", "--now", str(NOW), "--out", str(out), "--quiet"]) == 0
    )
    doc = json.loads((tmp_path / "scores.csv.json").read_text())
    assert doc["version"] == "v3" and len(doc["params_digest"]) == 64
    assert doc["counts"]["calibrated"] == doc["calibration_population"]["profiles"] > 0
    header = out.read_text().splitlines()[0].split(",")
    assert header[-1] == "calibrated"
    again = tmp_path / "again.csv"
    argv = ["score", str(edges), "--version", "v3", "--now", str(NOW), "--out", str(again), "--quiet"]
    assert main([*argv, "--calibration", str(tmp_path / "scores.csv.json")]) == 0
    assert again.read_text() == out.read_text()


def test_bad_calibration_file_is_rc2(edges, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"raw": [1, 0], "score": [1, 2]}')
    assert main(["score", str(edges), "--version", "v3", "--calibration", str(bad), "--quiet"]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_explain_prints_counterfactuals_and_rules(edges, capsys):
    assert main(["explain", "0", str(edges), "--now", str(NOW), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == "v3"
    assert doc["top_engagers"] and all("score_without" in e for e in doc["top_engagers"])
    assert abs(sum(doc["signals"].values()) - doc["score"]) < 0.01
    assert doc["influence"]["influencers"]
    assert main(["explain", "0", str(edges), "--now", str(NOW)]) == 0
    text = capsys.readouterr().out
    assert "without them" in text and "points by signal" in text


def test_explain_unknown_account_is_rc2(edges, capsys):
    assert main(["explain", "nobody", str(edges)]) == 2
    assert "nobody" in capsys.readouterr().err
