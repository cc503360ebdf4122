"""Edge/CSV readers and the ``renown score`` command on the real Higgs files."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from core.errors import InputFormatError
from core.io import attach_accounts, read_accounts_csv, read_edge_files
from renown.commands import score as score_cmd


def _run(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    score_cmd.add_parser(sub)
    return score_cmd.run(parser.parse_args(["score", *argv]))


def test_read_higgs_mention_network(higgs_dir):
    eng, acc = read_edge_files([higgs_dir / "mention_network.edgelist"])
    assert len(eng) == 150_818 and acc.n_accounts == 116_408
    assert eng.weight.sum() == 171_237
    assert (eng.etype == 2).all() and np.isnan(eng.ts).all()


def test_read_formats_and_errors(tmp_path):
    p = tmp_path / "e.txt"
    p.write_text("# comment\na b 2 share 100\n\nb c 1 3 200.5\nc a 1\n")
    eng, acc = read_edge_files([p])
    assert acc.ids == ["a", "b", "c"]
    assert eng.etype.tolist() == [1, 3, 2] and eng.ts[:2].tolist() == [100.0, 200.5]
    cases = {
        "a b\n": "field",
        "a b 1\na b -1\n": "weight",
        "a b x\n": "weight",
        "a b 1 poke\n": "type",
        "a b 1 like 1 2\n": "field",
        "a b 1 like nan\n": "unix_time",
    }
    for text, what in cases.items():
        p.write_text(text)
        with pytest.raises(InputFormatError, match=what) as info:
            read_edge_files([p])
        assert info.value.path == str(p) and info.value.line == text.count("\n")
    with pytest.raises(InputFormatError, match="cannot read"):
        read_edge_files([tmp_path / "missing.txt"])


def test_accounts_csv(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("account,followers,posts,created,profile\nb,10,5,1700000000,ann\nz,1,,,ann\n")
    t = read_accounts_csv(p)
    _, acc = read_edge_files([_edges(tmp_path)])
    merged = attach_accounts(acc, t)
    assert merged.ids == ["a", "b", "c", "z"]
    assert merged.followers.tolist() == [0.0, 10.0, 0.0, 1.0]
    assert merged.profile[1] == merged.profile[3] and merged.n_profiles == 3
    p.write_text("followers\n1\n")
    with pytest.raises(InputFormatError, match="account") as info:
        read_accounts_csv(p)
    assert info.value.line == 1
    p.write_text("account,followers\nx,-3\n")
    with pytest.raises(InputFormatError, match="followers") as info:
        read_accounts_csv(p)
    assert info.value.line == 2


def _edges(tmp_path):
    e = tmp_path / "edges.txt"
    e.write_text("a b 1\nc b 2\n")
    return e


def test_score_command_on_higgs_reply_network(higgs_dir, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    rc = _run(
        [str(higgs_dir / "reply_network.edgelist"), "--out", str(out), "--stats", "--default-type", "reply"]
    )
    assert rc == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "account,score,reach,amplification,network_impact"
    assert len(lines) == 38_918 + 1
    scores = np.array([float(line.split(",")[1]) for line in lines[1:]])
    assert 39 <= scores.mean() <= 41 and scores.min() >= 1 and scores.max() <= 100
    stats = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("load_s", "build_s", "solve_s", "iterations", "calibrate_s", "nodes", "edges", "peak_rss_mb"):
        assert key in stats
    assert stats["nodes"] == 38_918 and stats["edges"] == 32_523


def test_score_command_bad_input_exits_2_with_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 1\n3 4 -2\n")
    assert _run([str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{bad}:2:" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert _run([str(bad), "--version", "v9"]) == 2
