"""The digit-line parser against its reference, and the text reader with and without it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core.digit_lines
import core.edgelist
from core.digit_lines import parse_digit_lines
from core.errors import InputFormatError
from core.io import read_edge_files
from tests import naive


def _parse(text: bytes, sep: int = 32, size: int = 1, pos: int = 0):
    cols = (np.zeros(size, np.int64), np.zeros(size, np.int64), np.zeros(size))
    got = parse_digit_lines(np.frombuffer(text, np.uint8), sep, cols, pos)
    if got is None:
        return None
    (s, d, w), end = got
    return s[pos:end].tolist(), d[pos:end].tolist(), w[pos:end].tolist()


_token = st.one_of(st.integers(0, 10**6).map(str), st.integers(0, 10**18 - 1).map(str), st.just("007"))
_line = st.tuples(_token, _token, st.integers(0, 10**15).map(str), st.sampled_from(["\n", "\r\n"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(_line, max_size=300), st.sampled_from([" ", "\t"]), st.booleans(), st.integers(0, 5))
def test_parse_matches_naive(lines, sep, last_end, pos):
    text = "".join(sep.join(f[:3]) + f[3] for f in lines).encode()
    if not last_end and text.endswith(b"\n"):
        text = text.rstrip(b"\r\n")
    ref = naive.digit_lines(text, ord(sep))
    assert ref is not None
    assert _parse(text, ord(sep), pos=pos) == ref


@pytest.mark.parametrize(
    "text",
    [
        b"1 2 3\n4 5 1.5\n",  # a decimal weight
        b"1 2 3\n4 5 -1\n",  # a sign
        b"1 2 3\n# comment\n4 5 1\n",
        b"1 2 3\n\n4 5 1\n",  # an empty line
        b"1  2 3\n",  # two blanks
        b"1 2 3 \n",  # a trailing blank
        b"1\t2 3\n",  # mixed separators
        b"1 2\n",
        b"1 2 3 4\n",
        b"1 2 3\x00\n",
        b"1 2 1000000000000001\n",  # above the weight cap
        b"1234567890123456789 2 3\n",  # 19 digits
        b"1 2 3\r4 5 6\n",  # a lone carriage return
        b"\n",
    ],
)
def test_other_layouts_are_refused(text):
    assert naive.digit_lines(text, 32) is None
    assert _parse(text) is None


def test_many_chunks_grow_and_validate():
    rng = np.random.default_rng(3)
    m = 20_000
    s, d, w = rng.integers(0, 10**9, m), rng.integers(0, 50, m), rng.integers(0, 10**15 + 1, m)
    text = "".join(f"{a} {b} {c}\n" for a, b, c in zip(s, d, w, strict=True)).encode()
    assert _parse(text, size=3, pos=2) == (s.tolist(), d.tolist(), w.astype(float).tolist())
    assert _parse(b"") == ([], [], [])
    assert _parse(b"1 2 10000000000000000\n") is None  # exactly 1e15 is the last weight allowed
    assert _parse(b"1 2 1000000000000000\n") == ([1], [2], [1e15])
    with pytest.raises(TypeError):
        parse_digit_lines(np.zeros(3, np.int64), 32, (np.zeros(1, np.int64),) * 2 + (np.zeros(1),), 0)
    with pytest.raises(ValueError):
        parse_digit_lines(np.zeros(3, np.uint8), 44, (np.zeros(1, np.int64),) * 2 + (np.zeros(1),), 0)
    with pytest.raises(TypeError):
        parse_digit_lines(np.zeros(3, np.uint8), 32, (np.zeros(1),) * 3, 0)


@pytest.mark.parametrize("late", [b"", b"9 8 2.5\n", b"# note\n", b"9 8 x\n"])
def test_reader_same_table_with_and_without_the_kernel(tmp_path, monkeypatch, late):
    rng = np.random.default_rng(11)
    m = 80_000  # the late line past the first MB (which decides whether to try the kernel)
    lines = [f"{a}\t{b}\t{c}" for a, b, c in zip(
        rng.integers(0, 10**12, m), rng.integers(0, 300, m), rng.integers(0, 30, m), strict=True
    )]  # fmt: skip
    p = tmp_path / "e.txt"
    p.write_bytes(b"# header\n" + "\n".join(lines[:75_000]).encode() + b"\n" + late.replace(b" ", b"\t")
                  + "\n".join(lines[75_000:]).encode())  # fmt: skip
    monkeypatch.setattr(core.edgelist, "SEGMENT", 1 << 16)  # several segments; the late line in a later one
    calls: list[int] = []
    real = core.digit_lines.parse_digit_lines
    monkeypatch.setattr(core.edgelist, "parse_digit_lines", lambda *a: calls.append(1) or real(*a))
    seen: list[int] = []
    if late == b"9 8 x\n":  # a bad line: named the same with and without the kernel
        for stream in (core.edgelist._stream_digits, lambda *a: None):
            monkeypatch.setattr(core.edgelist, "_stream_digits", stream)
            with pytest.raises(InputFormatError, match=r"e\.txt:75002: bad weight 'x'"):
                read_edge_files([p])
        assert len(calls) > 3
        return
    fast, acc = core.edgelist.read_edges([p], progress=seen.append)
    assert len(calls) > 3
    if late in (b"", b"# note\n"):  # read once by the kernel or (the kernel's progress taken back) by pyarrow
        assert sum(seen) == p.stat().st_size - len(b"# header\n")
    monkeypatch.setattr(core.edgelist, "_stream_digits", lambda *a: None)
    plain, acc2 = read_edge_files([p])
    assert acc.ids == acc2.ids
    for name in ("src", "dst", "weight", "etype", "ts"):
        assert getattr(fast, name).tobytes() == getattr(plain, name).tobytes(), name
