"""Edge files: the fast reader's bad-input cases (file and line, rc 2), columnar round trips."""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from core.edgelist import MAX_ACCOUNT_BYTES
from core.errors import InputFormatError
from core.io import read_edge_files
from core.scoring import score_population
from renown.commands import score as score_cmd


def _run(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    score_cmd.add_parser(sub)
    return score_cmd.run(parser.parse_args(["score", *argv]))


GOOD = b"1 2 1\n3 2 2\n2 4 1\n"

BAD_TEXT = {
    "huge weight": (GOOD + b"5 6 1e78\n", 4, "weight"),
    "weight above the cap": (GOOD + b"5 6 2e15\n", 4, "weight"),
    "negative weight": (GOOD + b"5 6 -1\n", 4, "weight"),
    "weight nan": (b"1 2 nan\n", 1, "weight"),
    "ts 1e300": (b"1 2 1 like 100\n3 2 1 like 1e300\n", 2, "unix_time"),
    "ts -1e300": (b"1 2 1 like 100\n3 2 1 like -1e300\n", 2, "unix_time"),
    "ts far future": (b"1 2 1 like 100\n3 2 1 like 4102444800\n", 2, "unix_time"),
    "ts in milliseconds": (b"1 2 1 like 1700000000000\n", 1, "unix_time"),
    "NUL byte": (b"a b 1\nc\x00d b 1\n", 2, "NUL"),
    "NUL in a numeric file": (b"1 2 1\n3\x00 2 1\n", 2, "NUL"),
    "invalid UTF-8": (b"a b 1\n\xff b 1\n\xfe b 1\n", 2, "UTF-8"),
    "control character": (b"a b 1\nc\x01d b 1\n", 2, "control"),
    "long account name": (b"a b 1\n" + b"x" * (MAX_ACCOUNT_BYTES + 1) + b" b 1\n", 2, "bytes"),
    "unknown type": (b"a b 1 like\nb c 1 poke\n", 2, "type"),
    "too few fields": (b"a b 1\na b\n", 2, "field"),
    "too many fields": (b"a b 1 like 1 2\n", 1, "field"),
}


@pytest.mark.parametrize("case", sorted(BAD_TEXT))
def test_bad_text_names_file_and_line(tmp_path, case):
    data, line, what = BAD_TEXT[case]
    p = tmp_path / "e.txt"
    p.write_bytes(data)
    with pytest.raises(InputFormatError, match=what) as info:
        read_edge_files([p])
    assert info.value.path == str(p) and info.value.line == line


def test_ten_megabyte_account_name(tmp_path):
    p = tmp_path / "e.txt"
    p.write_bytes(b"a b 1\n" + b"y" * 10_000_000 + b" b 1\n")
    with pytest.raises(InputFormatError, match="bytes") as info:
        read_edge_files([p])
    assert info.value.line == 2


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "# a b\n\n# c d e\n"])
def test_empty_or_comment_only_file_is_named(tmp_path, text, capsys):
    p = tmp_path / "empty.txt"
    p.write_text(text)
    with pytest.raises(InputFormatError, match="no engagements") as info:
        read_edge_files([p])
    assert info.value.path == str(p)
    assert _run([str(p)]) == 2
    err = capsys.readouterr().err
    assert str(p) in err and "accounts is empty" not in err and "Traceback" not in err


@pytest.mark.parametrize("case", sorted(BAD_TEXT))
def test_score_command_bad_input_rc2(tmp_path, capsys, case):
    data, line, _ = BAD_TEXT[case]
    p = tmp_path / "bad.txt"
    p.write_bytes(data)
    assert _run([str(p), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{p}:{line}:" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_irregular_but_valid_text_goes_through_the_slow_pass(tmp_path):
    mixed = tmp_path / "mixed.txt"
    mixed.write_text("# header\n10 20 1\n30 20 2 share 100\n")
    slow = tmp_path / "slow.txt"
    slow.write_text("# header\n10   20\t1\n  30 20 2 share 100   \r\n")
    e1, a1 = read_edge_files([mixed])
    e2, a2 = read_edge_files([slow])
    assert a1.ids == a2.ids and e1.etype.tolist() == e2.etype.tolist() == [2, 1]
    assert np.isnan(e1.ts[0]) and e1.ts[1] == e2.ts[1] == 100.0
    ok = tmp_path / "ok.txt"
    ok.write_text("10 20 1\n# a b c\n\n30 20 2\n")
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("10  20 1\n# a b c\n\n30\t20 2\n")
    e1, a1 = read_edge_files([ok])
    e2, a2 = read_edge_files([spaced])
    assert a1.ids == a2.ids == ["10", "20", "30"]
    assert e1.src.tolist() == e2.src.tolist() == [0, 2] and e1.weight.tolist() == e2.weight.tolist()


def test_tokens_keep_plain_reader_order(tmp_path):
    p = tmp_path / "e.txt"
    p.write_text("b a 1\n10 9 1\nmastodon:x@y b 1\n")
    e, a = read_edge_files([p])
    assert a.ids == sorted(a.ids) == ["10", "9", "a", "b", "mastodon:x@y"]
    assert a.network.tolist()[-1] == 5
    p.write_text("100 -5 1\n7 100 1\n")  # a negative token: all tokens are text, sorted bytewise
    e, a = read_edge_files([p])
    assert a.ids == ["-5", "100", "7"] and e.dst.tolist() == [0, 1]


def test_sparse_numeric_ids_use_the_hash_table(tmp_path):
    rng = np.random.default_rng(3)
    ids = rng.choice(10**17, size=3000, replace=False).astype(np.int64)
    src = ids[rng.integers(0, 3000, 2_000_000)]
    dst = ids[rng.integers(0, 3000, 2_000_000)]
    p = tmp_path / "e.parquet"
    pq.write_table(pa.table({"source": src, "target": dst, "weight": np.ones(len(src))}), p)
    e, a = read_edge_files([p])
    uniq = np.unique(np.concatenate([src, dst]))
    assert a.ids == [str(v) for v in uniq.tolist()]
    assert (uniq[e.src] == src).all() and (uniq[e.dst] == dst).all()


def _table_of(path):
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return pa.table(
        {
            "source": [r[0] for r in rows],
            "target": [r[1] for r in rows],
            "weight": [float(r[2]) for r in rows],
            "type": [r[3] for r in rows],
            "ts": [float(r[4]) for r in rows],
        }
    )


def _scores(path):
    e, a = read_edge_files([path])
    return e, a, score_population(e, a, now=1_700_100_000.0)


@pytest.mark.parametrize("fmt", ["parquet", "feather", "arrow"])
def test_columnar_input_scores_bit_for_bit_like_text(tmp_path, fmt):
    rng = np.random.default_rng(5)
    m = 5000
    names = np.array(["like", "share", "reply", "mention"])
    text = tmp_path / "e.txt"
    with text.open("w") as fh:
        for s, d, w, t, ts in zip(
            rng.integers(0, 700, m),
            rng.integers(0, 700, m),
            rng.integers(1, 6, m),
            names[rng.integers(0, 4, m)],
            1_700_000_000 + rng.integers(0, 86_400, m),
            strict=True,
        ):
            fh.write(f"u{s} u{d} {w} {t} {ts}\n")
    col = tmp_path / f"e.{fmt}"
    table = _table_of(text)
    if fmt == "parquet":
        pq.write_table(table, col)
    else:
        feather.write_feather(table, col)
    e1, a1, r1 = _scores(text)
    e2, a2, r2 = _scores(col)
    assert a1.ids == a2.ids
    for name in ("src", "dst", "weight", "etype", "ts"):
        assert np.array_equal(getattr(e1, name), getattr(e2, name))
    assert np.array_equal(r1.score, r2.score) and np.array_equal(r1.raw_account, r2.raw_account)


def test_parquet_integer_ids_timestamps_and_codes(tmp_path):
    p = tmp_path / "e.parquet"
    ts = pa.array([1_700_000_000_000, None, 1_700_000_500_000], pa.timestamp("ms"))
    pq.write_table(
        pa.table(
            {
                "source": pa.array([1, 3, 2], pa.int32()),
                "target": pa.array([2, 2, 4], pa.int32()),
                "weight": pa.array([1, 2, 1], pa.int64()),
                "type": pa.array([1, 3, 0], pa.int8()),
                "ts": ts,
            }
        ),
        p,
    )
    e, a = read_edge_files([p])
    assert a.ids == ["1", "2", "3", "4"]
    assert e.etype.tolist() == [1, 3, 0] and e.weight.tolist() == [1.0, 2.0, 1.0]
    assert e.ts[0] == 1_700_000_000.0 and np.isnan(e.ts[1])


BAD_COLUMNAR = {
    "null weight": ({"weight": pa.array([1.0, None, 1.0])}, 2, "weight"),
    "huge weight": ({"weight": pa.array([1.0, 1e78, 1.0])}, 2, "weight"),
    "ts 1e300": ({"ts": pa.array([1.0, 1e300, 1.0])}, 2, "ts"),
    "ts future": ({"ts": pa.array([1.0, 1.0, time.time() + 10 * 86_400])}, 3, "ts"),
    "null source": ({"source": pa.array(["a", None, "c"])}, 2, "source"),
    "bad type": ({"type": pa.array(["like", "poke", "like"])}, 2, "type"),
    "type code": ({"type": pa.array([0, 9, 0], pa.int8())}, 2, "type"),
    "NUL in account": ({"source": pa.array(["a", "b\x00", "c"])}, 2, "control"),
    "blank in account": ({"target": pa.array(["a", "b", "c d"])}, 3, "control"),
    "invalid UTF-8": ({"source": pa.array([b"a", b"\xff", b"\xfe"], pa.binary())}, 2, "UTF-8"),
    "long account": ({"source": pa.array(["a", "b", "x" * 2000])}, 3, "bytes"),
}


@pytest.mark.parametrize("case", sorted(BAD_COLUMNAR))
def test_bad_parquet_names_file_and_row(tmp_path, case):
    cols, row, what = BAD_COLUMNAR[case]
    base = {
        "source": pa.array(["a", "b", "c"]),
        "target": pa.array(["b", "c", "a"]),
        "weight": pa.array([1.0, 1.0, 1.0]),
    }
    base.update(cols)
    p = tmp_path / "e.parquet"
    pq.write_table(pa.table(base), p)
    with pytest.raises(InputFormatError, match=what) as info:
        read_edge_files([p])
    assert info.value.path == str(p) and f"row {row}:" in str(info.value)


def test_parquet_missing_column_and_not_parquet(tmp_path):
    p = tmp_path / "e.parquet"
    pq.write_table(pa.table({"source": ["a"], "target": ["b"]}), p)
    with pytest.raises(InputFormatError, match="weight"):
        read_edge_files([p])
    p.write_text("1 2 1\n")
    with pytest.raises(InputFormatError) as info:
        read_edge_files([p])
    assert info.value.path == str(p)


@pytest.mark.parametrize("ext", ["parquet", "feather"])
def test_score_command_columnar_output_matches_csv(tmp_path, ext, higgs_dir):
    edges = higgs_dir / "reply_network.edgelist"
    csv_out = tmp_path / "s.csv"
    col_out = tmp_path / f"s.{ext}"
    assert _run([str(edges), "--out", str(csv_out), "--quiet"]) == 0
    assert _run([str(edges), "--out", str(col_out), "--quiet"]) == 0
    table = pq.read_table(col_out) if ext == "parquet" else feather.read_table(col_out)
    assert table.column_names == ["account", "score", "reach", "amplification", "network_impact"]
    lines = csv_out.read_text().splitlines()[1:]
    assert table.column("account").to_pylist() == [line.split(",")[0] for line in lines]
    text = [f"{v:.2f}" for v in table.column("score").to_pylist()]
    assert text == [line.split(",")[1] for line in lines]


def test_csv_writer_matches_reference_formatting(tmp_path):
    from types import SimpleNamespace

    v = np.concatenate([np.arange(0, 100, 0.005), [0.125, 1.005, 2.675, 99.995, -0.001, 1e20]])
    n = len(v)
    acc = SimpleNamespace(
        ids=[f'a"{i},' if i % 97 == 0 else str(i) for i in range(n)],
        profile=np.arange(n),
        profile_ids=[f"p{i}" for i in range(n)],
    )
    res = SimpleNamespace(
        score=v, subscores={"reach": v[::-1].copy(), "amplification": v * 0.3, "network_impact": v * 0.7}
    )
    ref = io.StringIO()
    score_cmd._write_csv(ref, acc, res, True)
    out = tmp_path / "s.csv"
    score_cmd.write_scores(str(out), acc, res, True)
    assert out.read_text() == ref.getvalue()


def test_whole_number_weights_read_as_integers_then_floats(tmp_path):
    rng = np.random.default_rng(4)
    m = 70_000  # past the first MB (16 bytes a line), which decides that the weights are whole numbers
    src, dst = rng.integers(10**5, 10**6, m).tolist(), rng.integers(10**5, 10**6, m).tolist()
    w = rng.integers(1, 9, m).astype(str).tolist()
    p = tmp_path / "e.txt"
    spaced = tmp_path / "spaced.txt"  # two blanks: the slow reader, float weights throughout
    for late in ["7", "2.5", "+3", "1e78"]:
        w[-1] = late
        lines = [f"{a} {b} {c}" for a, b, c in zip(src, dst, w, strict=True)]
        p.write_text("\n".join(lines) + "\n")
        if late == "1e78":
            with pytest.raises(InputFormatError, match="weight") as info:
                read_edge_files([p])
            assert info.value.line == m
            continue
        eng, acc = read_edge_files([p])
        assert eng.weight.dtype == np.float64 and eng.weight.tolist() == [float(c) for c in w], late
        assert acc.ids == [str(v) for v in sorted(set(src) | set(dst))]
    spaced.write_text("\n".join(line.replace(" ", "  ") for line in lines[:-1]) + "\n")
    p.write_text("\n".join(lines[:-1]) + "\n")
    fast, _ = read_edge_files([p])
    slow, _ = read_edge_files([spaced])
    for name in ("src", "dst", "weight"):
        assert getattr(slow, name).tobytes() == getattr(fast, name).tobytes()


def test_fixed2_kernel_matches_python_formatting():
    from renown.fixed_csv import fixed2_lines
    from tests import naive

    rng = np.random.default_rng(5)
    n = 5000
    halves = (rng.integers(0, 10**6, n) + 0.5) / 100  # x * 100 at (or within rounding of) a half
    wide = np.exp(rng.uniform(-12, 36, n))  # 6e-6 .. 4e15: over the 1e15 cut to Python
    odd = np.array([np.nan, np.inf, -np.inf, -0.0, -0.004, -0.006, -1.5, 0.0, 0.005, 0.015, 1e15, 9.99e14])
    columns = [np.resize(c, n) for c in (halves, wide, odd, rng.random(n) * 100)]
    texts = [f"acc{i}" if i % 11 else "" for i in range(n)]
    assert bytes(fixed2_lines(pa.array(texts), columns)) == naive.fixed2_lines(texts, columns)
    assert bytes(fixed2_lines(pa.array([], pa.string()), [np.zeros(0)])) == b""


def test_text_read_in_segments_is_the_same_table(tmp_path, monkeypatch):
    import core.edgelist

    rng = np.random.default_rng(8)
    lines = [f"{s} {d} {w} {t} {ts}" for s, d, w, t, ts in zip(
        rng.integers(0, 500, 3000), rng.integers(0, 500, 3000), rng.integers(1, 9, 3000),
        rng.choice(["like", "share", "reply"], 3000), rng.integers(10**9, 1.7 * 10**9, 3000), strict=True
    )]  # fmt: skip
    lines[1000:1000] = ["# a comment", ""]
    p = tmp_path / "e.txt"
    p.write_text("\n".join(lines) + "\n")
    whole, acc = read_edge_files([p])
    monkeypatch.setattr(core.edgelist, "SEGMENT", 97)  # cut every few lines, never inside one
    seen: list[int] = []
    parts, acc2 = core.edgelist.read_edges([p], progress=seen.append, compact=True)
    assert acc.ids == acc2.ids and len(seen) > 100 and sum(seen) == p.stat().st_size
    assert parts.src.dtype == np.int32 and parts.weight.dtype == np.float32
    for name in ("src", "dst", "weight", "etype", "ts"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(parts, name))
