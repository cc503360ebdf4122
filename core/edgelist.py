"""Fast reading of engagement edge files: text, Parquet and Arrow IPC (Feather).

(One module on purpose, over 500 lines: the fast columnar path and the slow validating pass that names
the first bad line must agree on every rule, so they sit side by side.)

Text files (``source target weight [type [unix_time]]`` lines) go through pyarrow's multithreaded CSV
reader, except three columns of digits, which one parallel kernel reads first
(:func:`core.digit_lines.parse_digit_lines`; it gives up on any other layout); Parquet and Arrow IPC
files hold the columns ``source``, ``target``, ``weight`` and optionally ``type`` and ``ts``. Account
tokens become dense integer ids without a Python object per edge: numeric tokens through a
direct-address table (or a hash table when they are sparse), text tokens through pyarrow's hash
dictionary encoding; only the distinct accounts are then sorted, so ids come out in the order of the
plain reader (numeric tokens numerically, the others bytewise).

Every value is validated on the columns. When a text file fails the fast path (a bad value, an
irregular layout such as several blanks between fields), a slow line-by-line pass reads it again: it
names the first bad line, or parses the file if every line is good.

The Lambda functions never import this module (the scoring layer does not ship pyarrow):
:func:`core.io.read_edge_files` imports it when a file is read.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from numba import njit, prange

from core.digit_lines import parse_digit_lines
from core.errors import InputFormatError, RenownCoreError
from core.types import (
    ENGAGEMENT_TYPES,
    NETWORKS,
    Accounts,
    Engagements,
    engagement_type_code,
    network_code,
)

__all__ = [
    "MAX_ACCOUNT_BYTES",
    "MAX_WEIGHT",
    "edge_file_kind",
    "read_edges",
]

#: Largest weight of one row: far above any count of engagements, far below what the float32 pair
#: weights can hold once summed (3.4e38).
MAX_WEIGHT = 1e15
#: Longest account token, in bytes (UTF-8).
MAX_ACCOUNT_BYTES = 1024
#: Timestamps may lie this far after the wall clock (clock skew), no further.
FUTURE_SLACK_S = 86_400.0
#: Numeric tokens longer than this many digits are kept as text (they would not fit an int64).
MAX_NUMERIC_DIGITS = 18

_COLUMNAR = {".parquet": "parquet", ".pq": "parquet", ".feather": "ipc", ".arrow": "ipc", ".ipc": "ipc"}
_TEXT_NAMES = ("source", "target", "weight", "type", "ts")
_BAD_TOKEN = re.compile(rb"[\x00-\x20\x7f]")
_BLOCK = 1 << 22
#: Bytes of text parsed at a time by the numeric fast path (each segment by several threads).
SEGMENT = 1 << 25


def edge_file_kind(path: str) -> str:
    """``"parquet"``, ``"ipc"`` or ``"text"``, from the file name."""
    return _COLUMNAR.get(os.path.splitext(path)[1].lower(), "text")


def _ts_max() -> float:
    return time.time() + FUTURE_SLACK_S


def _ts_hint(ts_max: float) -> str:
    return f"need unix seconds in [0, {ts_max:.0f}]: not before 1970, not in the future"


_WEIGHT_HINT = f"need a finite number in [0, {MAX_WEIGHT:.0e}]"


# --------------------------------------------------------------------------------------------------
# columns of one file


@dataclass
class _Columns:
    """Columns of one edge file: ``src``/``dst`` as int64 arrays (numeric tokens) or pyarrow string
    arrays; ``etype`` and ``ts`` are ``None`` when the file has no such column.
    """

    src: Any
    dst: Any
    weight: np.ndarray
    etype: np.ndarray | None
    ts: np.ndarray | None

    def __len__(self) -> int:
        return len(self.weight)


class _FastPathError(Exception):
    """The fast path cannot read this text file; the slow pass will name the line (or parse it)."""


def _type_code(tok: str) -> int:
    s = tok.strip()
    if s.isdigit():
        code = int(s)
        if code >= len(ENGAGEMENT_TYPES):
            raise ValueError(f"type code must be < {len(ENGAGEMENT_TYPES)}")
        return code
    return engagement_type_code(s)


def _numeric_ok(arr: np.ndarray) -> bool:
    return len(arr) == 0 or (int(arr.min()) >= 0 and int(arr.max()) < 10**MAX_NUMERIC_DIGITS)


# --------------------------------------------------------------------------------------------------
# text: fast path


def _sniff(path: str) -> tuple[int, bytes | None]:
    """Byte offset and text of the first data line (after leading blank and comment lines)."""
    offset = 0
    with open(path, "rb") as fh:
        for line in fh:
            f = line.split()
            if f and not f[0].startswith(b"#"):
                return offset, line
            offset += len(line)
    return offset, None


def _skip_comments(row: Any) -> str:
    text = row.text.strip()
    return "skip" if not text or text.startswith("#") else "error"


def _read_text_fast(path: str, progress: Callable[[int], None] | None) -> _Columns:
    offset, first = _sniff(path)
    if first is None:
        return _Columns(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), None, None)
    body = first.rstrip(b"\r\n")
    fields = body.split()
    k = len(fields)
    if not 3 <= k <= 5:
        raise _FastPathError
    delim = b"\t" if b"\t" in body else b" "
    if body.split(delim) != fields:
        raise _FastPathError  # several blanks, mixed blanks, leading or trailing blanks
    names = list(_TEXT_NAMES[:k])
    numeric = all(f.isdigit() and len(f) <= MAX_NUMERIC_DIGITS for f in fields[:2])

    def options(token_type: Any, weight_type: Any = None) -> tuple[Any, Any, Any]:
        types = {"source": token_type, "target": token_type, "weight": weight_type or pa.float64()}
        if k >= 4:
            types["type"] = pa.dictionary(pa.int32(), pa.string())
        if k == 5:
            types["ts"] = pa.float64()
        return (
            pcsv.ReadOptions(column_names=names, block_size=_BLOCK),
            pcsv.ParseOptions(
                delimiter=delim.decode(),
                quote_char=False,
                escape_char=False,
                double_quote=False,
                newlines_in_values=False,
                ignore_empty_lines=True,
                invalid_row_handler=_skip_comments,
            ),
            pcsv.ConvertOptions(
                column_types=types,
                null_values=[],
                true_values=[],
                false_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )

    def open_file() -> Any:
        src: Any = pa.OSFile(path)
        src.seek(offset)
        if progress is not None:
            src = pa.PythonFile(_ProgressReader(src, progress), mode="r")
        return src

    cols: _Columns | None = None
    if numeric:
        rows = _estimate_rows(path, offset)
        digits = k == 3 and _digits_only(path, offset)
        if digits:
            cols = _stream_digits(path, offset, delim, rows, progress)
            if cols is not None:
                return cols
        # whole-number weights parse faster as integers (the same float64 values: both conversions
        # round the exact integer); a weight that is not one reads the file again as floats
        weight_types = [pa.int64(), pa.float64()] if digits else [pa.float64()]
        for weight_type in weight_types:
            try:
                cols = _stream_numeric(path, offset, options(pa.int64(), weight_type), names, rows, progress)
            except pa.ArrowInvalid as exc:
                if str(exc).startswith("In CSV column #2:") and weight_type != weight_types[-1]:
                    continue
                if "to int64" not in str(exc):
                    raise _FastPathError from None
            except (ValueError, RenownCoreError):
                raise _FastPathError from None
            break
        if cols is not None:
            if _numeric_ok(cols.src) and _numeric_ok(cols.dst):
                return cols
            cols = None  # negative or too long: the tokens stay text
    src = open_file()
    try:
        table = pcsv.read_csv(src, *options(pa.string()))
    except pa.ArrowInvalid:
        raise _FastPathError from None
    finally:
        src.close()
    comment = pc.starts_with(table.column("source"), "#")
    if pc.any(comment).as_py():
        table = table.filter(pc.invert(comment))
    s = table.column("source")
    d = table.column("target")
    rest = {name: table.column(name) for name in names[2:]}
    del table
    weight = _to_numpy(rest.pop("weight"), np.float64)
    etype = None
    if k >= 4:
        try:
            etype = _dictionary_codes(rest.pop("type"))
        except (ValueError, RenownCoreError):
            raise _FastPathError from None
    ts = _to_numpy(rest.pop("ts"), np.float64) if k == 5 else None
    return _Columns(s, d, weight, etype, ts)


def _digits_only(path: str, offset: int) -> bool:
    """Whether the first MB of data holds digits, blanks and line ends only (whole-number columns)."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        head = fh.read(1 << 20)
    return not head.translate(None, b"0123456789 \t\r\n")


def _estimate_rows(path: str, offset: int) -> int:
    """Rows of a text file, from the mean length of its first lines (a first guess: columns grow)."""
    size = os.path.getsize(path) - offset
    with open(path, "rb") as fh:
        fh.seek(offset)
        head = fh.read(1 << 20)
    lines = head.count(b"\n") + 1
    return int(size / max(1.0, len(head) / lines) * 1.05) + 1024


def _grow(a: np.ndarray, size: int) -> np.ndarray:
    """``a`` with room for ``size`` rows (``realloc``: large arrays are remapped, not copied)."""
    if a.flags.owndata:
        a.resize(size, refcheck=False)
        return a
    b = np.empty(size, a.dtype)  # pragma: no cover - the columns own their data
    b[: min(len(a), size)] = a[:size]
    return b


def _stream_numeric(
    path: str,
    offset: int,
    options: tuple[Any, Any, Any],
    names: list[str],
    rows: int,
    progress: Callable[[int], None] | None,
) -> _Columns:
    """Numeric tokens: the file (memory-mapped) in segments of about :data:`SEGMENT` bytes cut at line
    ends, each parsed by pyarrow's multithreaded CSV reader and copied into growing numpy columns:
    never a table of the whole file next to its numpy copy.
    """
    dtypes = {"source": np.int64, "target": np.int64, "weight": np.float64, "type": np.uint8}
    dtypes["ts"] = np.float64
    out = {name: np.empty(rows, dtypes[name]) for name in names}
    pos = 0
    with pa.memory_map(path) as mm:
        size = mm.size()
        start = offset
        while start < size:
            end = min(size, start + SEGMENT)
            if end < size:  # cut after the next line end
                mm.seek(end)
                tail = mm.read(1 << 16)
                nl = tail.find(b"\n")
                while nl < 0 and end + len(tail) < size:
                    more = mm.read(1 << 16)
                    tail += more
                    nl = tail.find(b"\n")
                end = size if nl < 0 else end + nl + 1
            table = pcsv.read_csv(pa.BufferReader(mm.read_at(end - start, start)), *options)
            k = table.num_rows
            if pos + k > len(out["source"]):
                grown = max(2 * len(out["source"]), pos + k)
                out = {name: _grow(a, grown) for name, a in out.items()}
            for name in names:
                col = table.column(name)
                if name == "type":
                    out[name][pos : pos + k] = _dictionary_codes(col)
                else:
                    j = pos
                    for ch in col.chunks:
                        out[name][j : j + len(ch)] = ch.to_numpy(zero_copy_only=False)
                        j += len(ch)
            pos += k
            del table
            if progress is not None:
                progress(end - start)
            start = end
    out = {name: _grow(a, pos) for name, a in out.items()}
    return _Columns(out["source"], out["target"], out["weight"], out.get("type"), out.get("ts"))


def _stream_digits(
    path: str, offset: int, delim: bytes, rows: int, progress: Callable[[int], None] | None
) -> _Columns | None:
    """Lines of three whole numbers: the file (memory-mapped) in segments of about :data:`SEGMENT`
    bytes cut at line ends, each parsed by :func:`core.digit_lines.parse_digit_lines`; ``None`` at the
    first line of another layout (the progress reported so far is then taken back).
    """
    cols: tuple[np.ndarray, np.ndarray, np.ndarray] = (
        np.empty(rows, np.int64),
        np.empty(rows, np.int64),
        np.empty(rows, np.float64),
    )
    pos = 0
    done = 0
    sep = delim[0]
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
    data = np.memmap(path, np.uint8, mode="r") if size else np.zeros(0, np.uint8)
    try:
        start = offset
        while start < size:
            end = min(size, start + SEGMENT)
            if end < size:  # cut after the next line end
                nl = _find_newline(data, end)
                end = size if nl < 0 else nl + 1
            got = parse_digit_lines(data[start:end], sep, cols, pos)
            if got is None:
                if progress is not None and done:
                    progress(-done)
                return None
            cols, pos = got
            if progress is not None:
                progress(end - start)
            done += end - start
            start = end
    finally:
        del data
    src, dst, w = (_grow(a, pos) for a in cols)
    return _Columns(src, dst, w, None, None)


def _find_newline(data: np.ndarray, at: int) -> int:
    """Position of the first line end at or after ``at``, or -1."""
    step = 1 << 16
    while at < len(data):
        hit = np.flatnonzero(data[at : at + step] == 10)
        if len(hit):
            return at + int(hit[0])
        at += step
    return -1


class _ProgressReader:
    """File-like wrapper that reports the bytes read."""

    def __init__(self, raw: Any, report: Callable[[int], None]) -> None:
        self.raw = raw
        self.report = report
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        b = self.raw.read(n)
        self.report(len(b))
        return bytes(b)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True
        self.raw.close()


def _to_numpy(col: Any, dtype: Any, cast: Any = None) -> np.ndarray:
    """A writable numpy copy of a chunked pyarrow column (each chunk cast to ``cast`` first, if given:
    one chunk at a time, not a cast copy of the whole column).
    """
    if col.num_chunks == 0:
        return np.zeros(0, dtype)
    out = np.empty(len(col), dtype)
    pos = 0
    for ch in col.chunks:
        if cast is not None and ch.type != cast:
            ch = ch.cast(cast)
        out[pos : pos + len(ch)] = ch.to_numpy(zero_copy_only=False)
        pos += len(ch)
    return out


def _dictionary_codes(col: Any) -> np.ndarray:
    """Engagement type codes of a dictionary-encoded (or plain) pyarrow text column."""
    out = np.empty(len(col), np.uint8)
    pos = 0
    cache: dict[str, int] = {}
    for ch in col.chunks:
        if not pa.types.is_dictionary(ch.type):
            ch = ch.dictionary_encode()
        names = ch.dictionary.to_pylist()
        table = np.array([cache.setdefault(n, _type_code(n)) for n in names] or [0], dtype=np.uint8)
        idx = ch.indices.to_numpy(zero_copy_only=False)
        out[pos : pos + len(ch)] = table[idx]
        pos += len(ch)
    return out


# --------------------------------------------------------------------------------------------------
# text: slow validating pass


def _bad_token(tok: bytes) -> str | None:
    if len(tok) > MAX_ACCOUNT_BYTES:
        return f"account name of {len(tok):,} bytes (at most {MAX_ACCOUNT_BYTES})"
    if _BAD_TOKEN.search(tok):
        return f"control character in account {tok[:80].decode(errors='backslashreplace')!r}"
    try:
        tok.decode("utf-8")
    except UnicodeDecodeError:
        return f"account {tok[:80].decode(errors='backslashreplace')!r} is not valid UTF-8"
    return None


def _check_line(f: list[bytes], line: bytes, ts_max: float) -> str | None:
    """Why a (non-comment) line is bad, or ``None``."""
    if not 3 <= len(f) <= 5:
        return f"expected 'source target weight [type [unix_time]]', got {len(f)} field(s)"
    if b"\0" in line:
        return "NUL byte in the line"
    for tok in f[:2]:
        why = _bad_token(tok)
        if why:
            return why
    w = f[2].decode(errors="backslashreplace")
    try:
        wv = float(f[2])
    except ValueError:
        return f"bad weight {w!r} ({_WEIGHT_HINT})"
    if not 0.0 <= wv <= MAX_WEIGHT:
        return f"bad weight {w!r} ({_WEIGHT_HINT})"
    if len(f) >= 4:
        t = f[3].decode(errors="backslashreplace")
        try:
            _type_code(t)
        except (ValueError, RenownCoreError) as exc:
            return f"bad type {t!r} ({exc})"
    if len(f) == 5:
        t = f[4].decode(errors="backslashreplace")
        try:
            tv = float(f[4])
        except ValueError:
            return f"bad unix_time {t!r} ({_ts_hint(ts_max)})"
        if not 0.0 <= tv <= ts_max:
            return f"bad unix_time {t!r} ({_ts_hint(ts_max)})"
    return None


def _read_text_slow(path: str, ts_max: float) -> _Columns:
    """Read a text edge file line by line: raise at the first bad line, else return its columns."""
    src: list[bytes] = []
    dst: list[bytes] = []
    ws: list[float] = []
    types: list[str] = []
    tss: list[float] = []
    lens: list[int] = []
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            f = line.split()
            if not f or f[0].startswith(b"#"):
                continue
            why = _check_line(f, line, ts_max)
            if why:
                raise InputFormatError(why, path, lineno)
            src.append(f[0])
            dst.append(f[1])
            ws.append(float(f[2]))
            lens.append(len(f))
            if len(f) >= 4:
                types.append(f[3].decode())
            if len(f) == 5:
                tss.append(float(f[4]))
    m = len(src)
    ln = np.asarray(lens, dtype=np.int64)
    etype = None
    ts = None
    if m and ln.max() >= 4:
        etype = np.full(m, 255, dtype=np.uint8)  # 255: the default type, filled in later
        cache: dict[str, int] = {}
        etype[ln >= 4] = [cache.setdefault(t, _type_code(t)) for t in types]
    if m and ln.max() == 5:
        ts = np.full(m, np.nan)
        ts[ln == 5] = tss
    return _Columns(_tokens(src), _tokens(dst), np.asarray(ws, dtype=np.float64), etype, ts)


def _tokens(toks: list[bytes]) -> Any:
    if all(t.isdigit() and len(t) <= MAX_NUMERIC_DIGITS for t in toks):
        return np.array([int(t) for t in toks], dtype=np.int64)
    return pa.chunked_array([pa.array([t.decode() for t in toks], type=pa.string())])


# --------------------------------------------------------------------------------------------------
# Parquet and Arrow IPC


def _read_columnar(path: str, kind: str, ts_max: float) -> _Columns:
    if kind == "parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415 - only a Parquet file needs the Parquet reader

        try:
            names = pq.read_schema(path).names
        except pa.ArrowException as exc:
            raise InputFormatError(f"not a readable Parquet file ({exc})", path) from None
        want = [c for c in _TEXT_NAMES if c in names]
        table = pq.read_table(path, columns=want)
    else:
        import pyarrow.feather as feather  # noqa: PLC0415 - only an Arrow IPC file needs its reader

        try:
            table = feather.read_table(path)
        except pa.ArrowException:
            try:
                with pa.OSFile(path) as fh:
                    table = pa.ipc.open_stream(fh).read_all()
            except pa.ArrowException as exc:
                raise InputFormatError(f"not a readable Arrow IPC / Feather file ({exc})", path) from None
    missing = [c for c in _TEXT_NAMES[:3] if c not in table.column_names]
    if missing:
        raise InputFormatError(
            f"missing column(s) {', '.join(missing)} (has: {', '.join(table.column_names)}); "
            "expected source, target, weight and optionally type, ts",
            path,
        )

    def fail(row: int, msg: str) -> InputFormatError:
        return InputFormatError(f"row {row + 1}: {msg}", path)

    def no_nulls(name: str) -> None:
        col = table.column(name)
        if col.null_count:
            row = int(np.flatnonzero(_to_numpy(pc.is_null(col), np.bool_))[0])
            raise fail(row, f"{name} is missing (null)")

    cols: dict[str, Any] = {}
    for name in ("source", "target"):
        no_nulls(name)
        col = table.column(name)
        t = col.type
        if pa.types.is_dictionary(t):
            col = col.cast(t.value_type)
            t = col.type
        if pa.types.is_integer(t):
            arr = _to_numpy(col, np.int64)
            cols[name] = arr
            del col
            table = table.drop_columns([name])  # its buffers go as soon as they are copied
            pa.default_memory_pool().release_unused()
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
            if pa.types.is_binary(t):
                try:
                    col = col.cast(pa.string())
                except pa.ArrowInvalid:
                    for row, tok in enumerate(col.to_pylist()):
                        if _bad_utf8(tok):
                            raise fail(row, f"{name} {_bad_token(tok)}") from None
                    raise
            cols[name] = col
        else:
            raise InputFormatError(f"column {name} must hold integers or text, not {t}", path)
    if isinstance(cols["source"], np.ndarray) != isinstance(cols["target"], np.ndarray) or (
        isinstance(cols["source"], np.ndarray)
        and not (_numeric_ok(cols["source"]) and _numeric_ok(cols["target"]))
    ):
        for name in ("source", "target"):
            if isinstance(cols[name], np.ndarray):
                cols[name] = pa.chunked_array([pa.array(cols[name]).cast(pa.string())])
    no_nulls("weight")
    wcol = table.column("weight")
    if not (
        pa.types.is_integer(wcol.type) or pa.types.is_floating(wcol.type) or pa.types.is_decimal(wcol.type)
    ):
        raise InputFormatError(f"column weight must be numeric, not {wcol.type}", path)
    weight = _to_numpy(wcol, np.float64, pa.float64())
    del wcol
    table = table.drop_columns(["weight"])
    pa.default_memory_pool().release_unused()
    bad = _first_false((weight >= 0) & (weight <= MAX_WEIGHT))
    if bad is not None:
        raise fail(bad, f"bad weight {weight[bad]!r} ({_WEIGHT_HINT})")
    etype = None
    if "type" in table.column_names:
        no_nulls("type")
        tcol = table.column("type")
        vt = tcol.type.value_type if pa.types.is_dictionary(tcol.type) else tcol.type
        if pa.types.is_integer(vt):
            codes = _to_numpy(tcol.cast(pa.int64()), np.int64)
            bad = _first_false((codes >= 0) & (codes < len(ENGAGEMENT_TYPES)))
            if bad is not None:
                raise fail(bad, f"bad type code {int(codes[bad])} (must be < {len(ENGAGEMENT_TYPES)})")
            etype = codes.astype(np.uint8)
        elif pa.types.is_string(vt) or pa.types.is_large_string(vt):
            try:
                etype = _dictionary_codes(tcol)
            except (ValueError, RenownCoreError):
                for row, name in enumerate(tcol.to_pylist()):
                    try:
                        _type_code(name)
                    except (ValueError, RenownCoreError) as exc:
                        raise fail(row, f"bad type {name!r} ({exc})") from None
                raise
        else:
            raise InputFormatError(f"column type must hold names or codes, not {tcol.type}", path)
    ts = None
    if "ts" in table.column_names:
        tcol = table.column("ts")
        if pa.types.is_timestamp(tcol.type):
            per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[tcol.type.unit]
            raw = pc.cast(tcol, pa.timestamp(tcol.type.unit, tz=None) if tcol.type.tz else tcol.type)
            secs = pc.divide(pc.cast(raw.cast(pa.int64()), pa.float64()), float(per_s))
            ts = _to_numpy(secs, np.float64)
        elif pa.types.is_integer(tcol.type) or pa.types.is_floating(tcol.type):
            ts = _to_numpy(tcol.cast(pa.float64()), np.float64)
        else:
            raise InputFormatError(f"column ts must be unix seconds or a timestamp, not {tcol.type}", path)
        null = _to_numpy(pc.is_null(tcol), np.bool_) if tcol.null_count else np.zeros(len(ts), np.bool_)
        bad = _first_false(null | ((ts >= 0) & (ts <= ts_max)))
        if bad is not None:
            raise fail(bad, f"bad ts {ts[bad]!r} ({_ts_hint(ts_max)})")
        ts[null] = np.nan
    return _Columns(cols["source"], cols["target"], weight, etype, ts)


def _first_false(ok: np.ndarray) -> int | None:
    if ok.all():
        return None
    return int(np.argmin(ok))


# --------------------------------------------------------------------------------------------------
# one file


def _check_values(c: _Columns, ts_max: float) -> bool:
    w = c.weight
    if len(w) and not bool(((w >= 0) & (w <= MAX_WEIGHT)).all()):
        return False
    ts = c.ts
    return ts is None or len(ts) == 0 or bool(((ts >= 0) & (ts <= ts_max)).all())


def _read_one(path: str, ts_max: float, progress: Callable[[int], None] | None) -> _Columns:
    kind = edge_file_kind(path)
    try:
        if kind != "text":
            try:
                return _read_columnar(path, kind, ts_max)
            except pa.ArrowException as exc:
                raise InputFormatError(f"unreadable {kind} file ({exc})", path) from None
        try:
            cols = _read_text_fast(path, progress)
            if not _check_values(cols, ts_max):
                raise _FastPathError
            if not isinstance(cols.src, np.ndarray):
                _check_tokens_fast(cols)
        except _FastPathError:
            return _read_text_slow(path, ts_max)
        return cols
    except OSError as exc:
        raise InputFormatError(f"cannot read: {exc.strerror or exc}", path) from None


def _check_tokens_fast(c: _Columns) -> None:
    """Raise :class:`_FastPathError` if a text token is empty, too long, or holds a blank or a
    control character (checked on the distinct tokens of each chunk, through their byte buffers).
    """
    for col in (c.src, c.dst):
        for ch in col.chunks:
            if not _chunk_tokens_ok(ch):
                raise _FastPathError


def _chunk_tokens_ok(ch: Any) -> bool:
    if len(ch) == 0:
        return True
    if not (pa.types.is_string(ch.type) or pa.types.is_large_string(ch.type)):
        return False
    off_t = np.int64 if pa.types.is_large_string(ch.type) else np.int32
    bufs = ch.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_t)[ch.offset : ch.offset + len(ch) + 1]
    lens = np.diff(offsets)
    if int(lens.min()) < 1 or int(lens.max()) > MAX_ACCOUNT_BYTES:
        return False
    data = np.frombuffer(bufs[2], dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])] if bufs[2] else None
    return data is None or bool(_all_printable(data))


@njit(parallel=True, cache=True)
def _all_printable(data):  # pragma: no cover - compiled
    n = len(data)
    chunks = 8
    ok = np.ones(chunks, np.bool_)
    for c in prange(chunks):
        for i in range(n * c // chunks, n * (c + 1) // chunks):
            b = data[i]
            if b <= 0x20 or b == 0x7F:
                ok[c] = False
                break
    return ok.all()


# --------------------------------------------------------------------------------------------------
# account ids


@njit(parallel=True, cache=True)
def _mark(a, lo, present):  # pragma: no cover - compiled
    for i in prange(len(a)):
        present[a[i] - lo] = 1


@njit(cache=True)
def _ranks(present):  # pragma: no cover - compiled
    rank = np.empty(len(present), np.int32)
    r = 0
    for i in range(len(present)):
        rank[i] = r
        r += present[i]
    return rank, r


@njit(parallel=True, cache=True)
def _dense_apply(a, lo, rank):  # pragma: no cover - compiled
    for i in prange(len(a)):
        a[i] = rank[a[i] - lo]


@njit(cache=True)
def _log2(size):  # pragma: no cover - compiled
    b = 0
    while (1 << b) < size:
        b += 1
    return b


@njit(cache=True)
def _hash_codes(a, start, keys, slots, n_uniq):  # pragma: no cover - compiled
    # open addressing, linear probing: a[i] becomes the index of its key in first-seen order. Stops
    # before a new key would fill the table over half; returns (rows done, distinct keys).
    mask = np.int64(len(slots) - 1)
    shift = np.uint64(64 - _log2(len(slots)))
    for i in range(start, len(a)):
        x = a[i]
        h = np.int64((np.uint64(x) * np.uint64(0x9E3779B97F4A7C15)) >> shift)
        while True:
            s = slots[h]
            if s < 0:
                if 2 * (n_uniq + 1) > len(slots):
                    return i, n_uniq
                slots[h] = n_uniq
                keys[n_uniq] = x
                a[i] = n_uniq
                n_uniq += 1
                break
            if keys[s] == x:
                a[i] = s
                break
            h = (h + np.int64(1)) & mask
    return len(a), n_uniq


@njit(cache=True)
def _rehash(keys, n_uniq, slots):  # pragma: no cover - compiled
    mask = np.int64(len(slots) - 1)
    shift = np.uint64(64 - _log2(len(slots)))
    for k in range(n_uniq):
        h = np.int64((np.uint64(keys[k]) * np.uint64(0x9E3779B97F4A7C15)) >> shift)
        while slots[h] >= 0:
            h = (h + np.int64(1)) & mask
        slots[h] = k


@njit(parallel=True, cache=True)
def _remap(a, table):  # pragma: no cover - compiled
    for i in prange(len(a)):
        a[i] = table[a[i]]


def _factorise_ints(arrays: list[np.ndarray]) -> np.ndarray:
    """Replace the int64 tokens of ``arrays`` in place by dense ids (ascending token order); return
    the distinct tokens, sorted.
    """
    total = sum(len(a) for a in arrays)
    nonempty = [a for a in arrays if len(a)]
    if not nonempty:
        return np.zeros(0, np.int64)
    lo = min(int(a.min()) for a in nonempty)
    hi = max(int(a.max()) for a in nonempty)
    span = hi - lo + 1
    if span <= max(1 << 24, 2 * total):
        present = np.zeros(span, np.uint8)
        for a in nonempty:
            _mark(a, lo, present)
        rank, _ = _ranks(present)
        uniq = np.flatnonzero(present).astype(np.int64) + lo
        del present
        for a in nonempty:
            _dense_apply(a, lo, rank)
        return uniq
    size = 1 << 20
    keys = np.empty(size // 2, np.int64)
    slots = np.full(size, -1, np.int64)
    n_uniq = 0
    for a in nonempty:
        start = 0
        while True:
            start, n_uniq = _hash_codes(a, start, keys, slots, n_uniq)
            if start == len(a):
                break
            size *= 2  # half full: double the table and go on from the row that stopped
            keys = np.concatenate([keys, np.empty(size // 2 - len(keys), np.int64)])
            slots = np.full(size, -1, np.int64)
            _rehash(keys, n_uniq, slots)
    uniq = keys[:n_uniq]
    order = np.argsort(uniq, kind="stable")
    rank = np.empty(n_uniq, np.int64)
    rank[order] = np.arange(n_uniq)
    for a in nonempty:
        _remap(a, rank)
    return uniq[order]


def _factorise_text(columns: list[Any]) -> tuple[list[np.ndarray], Any]:
    """Dense ids of pyarrow text columns: (one int64 array per column, sorted distinct tokens)."""
    chunks = [ch for col in columns for ch in col.chunks]
    enc = pa.chunked_array(chunks, type=pa.string()).dictionary_encode()
    dicts = {id(ch.dictionary) for ch in enc.chunks}
    if enc.num_chunks and (
        len(dicts) > 1 and len({len(ch.dictionary) for ch in enc.chunks}) > 1
    ):  # chunks with their own dictionaries: encode one array
        enc = pa.chunked_array([pa.concat_arrays(chunks)]).dictionary_encode()
    dictionary = enc.chunk(0).dictionary if enc.num_chunks else pa.array([], pa.string())
    order = pc.array_sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    out = []
    pos = 0
    for col in columns:
        codes = np.empty(len(col), np.int64)
        k = 0
        for ch in enc.chunks[pos : pos + col.num_chunks]:
            codes[k : k + len(ch)] = ch.indices.to_numpy(zero_copy_only=False)
            k += len(ch)
        pos += col.num_chunks
        _remap(codes, rank)
        out.append(codes)
    return out, dictionary.take(pa.array(order))


def _token_errors(path: str, tokens: Any, codes: list[np.ndarray]) -> None:
    """Name the first row of a columnar file whose account token is unusable."""
    if len(tokens) == 0:
        return
    lens = pc.binary_length(tokens).to_numpy(zero_copy_only=False)
    bad = (lens < 1) | (lens > MAX_ACCOUNT_BYTES)
    bad |= pc.match_substring_regex(tokens, r"[\x00-\x20\x7f]").to_numpy(zero_copy_only=False)
    if not bad.any():
        try:
            tokens.validate(full=True)
        except pa.ArrowInvalid:
            bad = np.array([_bad_utf8(t) for t in tokens.cast(pa.binary()).to_pylist()])
    if not bad.any():
        return
    ids = np.flatnonzero(bad)
    rows = [int(np.flatnonzero(np.isin(c, ids))[0]) for c in codes if np.isin(c, ids).any()]
    row = min(rows)
    for c in codes:
        if row < len(c) and bad[c[row]]:
            tok = tokens[int(c[row])].as_py()
            break
    why = _bad_token(tok.encode("utf-8", errors="surrogateescape") if isinstance(tok, str) else tok)
    raise InputFormatError(f"row {row + 1}: {why or 'bad account'}", path)


def _bad_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


# --------------------------------------------------------------------------------------------------


def read_edges(
    paths: Sequence[str | os.PathLike[str]],
    default_type: str = "mention",
    network: str = "twitter",
    progress: Callable[[int], None] | None = None,
    compact: bool = False,
) -> tuple[Engagements, Accounts]:
    """Read edge files (text, Parquet, Arrow IPC) into engagements and their accounts.

    See :func:`core.io.read_edge_files`; ``progress`` is called with the number of bytes read as a
    text file is parsed. With ``compact``, the table takes about a third of the memory and scores the
    same, bit for bit: account indices are int32 (below 2**31 accounts), weights float32 when every
    weight is exact in float32 (whole counts are), and a column that no file has (``type``, ``ts``)
    is one value broadcast over the rows (a read-only view).
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if len(paths) == 0:
        raise InputFormatError("no edge file given")
    try:
        dtype_code = engagement_type_code(default_type)
    except RenownCoreError as exc:
        raise InputFormatError(str(exc)) from None
    ts_max = _ts_max()
    files: list[tuple[str, _Columns]] = []
    for p in paths:
        path = os.fspath(p)
        cols = _read_one(path, ts_max, progress)
        if len(cols) == 0:
            raise InputFormatError("no engagements: the file is empty or holds only comments", path)
        files.append((path, cols))
    numeric = all(isinstance(c.src, np.ndarray) for _, c in files)
    lengths = [len(c) for _, c in files]
    m = sum(lengths)
    if numeric:
        src = np.concatenate([c.src for _, c in files]) if len(files) > 1 else files[0][1].src
        dst = np.concatenate([c.dst for _, c in files]) if len(files) > 1 else files[0][1].dst
        _release(files, "src", "dst")
        uniq = _factorise_ints([src, dst])
        ids = [str(v) for v in uniq.tolist()]
        net = np.full(len(ids), network_code(network), np.uint8)
        accounts = _accounts(ids, net)
    else:

        def text(col: Any) -> Any:
            if isinstance(col, np.ndarray):
                return pa.chunked_array([pa.array(col).cast(pa.string())])
            return col

        srcs = [text(c.src) for _, c in files]
        dsts = [text(c.dst) for _, c in files]
        codes, tokens = _factorise_text(srcs + dsts)
        del srcs, dsts
        _release(files, "src", "dst")
        for i, (path, _c) in enumerate(files):
            if edge_file_kind(path) != "text":
                _token_errors(path, tokens, [codes[i], codes[len(files) + i]])
        src = np.concatenate(codes[: len(files)]) if len(files) > 1 else codes[0]
        dst = np.concatenate(codes[len(files) :]) if len(files) > 1 else codes[len(files)]
        del codes
        accounts = _text_accounts(tokens, network)
    weight = np.concatenate([c.weight for _, c in files]) if len(files) > 1 else files[0][1].weight
    _release(files, "weight")
    if compact:  # each column converted once the file columns no longer hold the original
        if len(accounts.ids) < 2**31:
            src = _to_int32(src)
            dst = _to_int32(dst)
        weight = _float32_if_exact(weight)
    typed = any(c.etype is not None for _, c in files)
    timed = any(c.ts is not None for _, c in files)
    if typed or not compact:
        etype = np.full(m, dtype_code, np.uint8)
    else:
        etype = np.broadcast_to(np.uint8(dtype_code), (m,))
    ts = np.full(m, np.nan) if timed or not compact else np.broadcast_to(np.float64(np.nan), (m,))
    pos = 0
    for (_, c), k in zip(files, lengths, strict=True):
        if c.etype is not None:
            et = c.etype
            etype[pos : pos + k] = np.where(et == 255, dtype_code, et) if (et == 255).any() else et
        if c.ts is not None:
            ts[pos : pos + k] = c.ts
        pos += k
    files.clear()
    pa.default_memory_pool().release_unused()  # the columns' buffers, held by the pool
    return Engagements(src, dst, weight, etype, ts), accounts


def _release(files: list[tuple[str, _Columns]], *names: str) -> None:
    """Drop the files' references to columns already gathered (their memory goes as they are converted)."""
    for _, c in files:
        for name in names:
            setattr(c, name, None)


def _float32_if_exact(w: np.ndarray) -> np.ndarray:
    """``w`` as float32 when every weight is exact in float32 (counts are), else ``w`` itself."""
    out = np.empty(len(w), np.float32)
    step = 1 << 22
    for i in range(0, len(w), step):
        part = w[i : i + step]
        out[i : i + step] = part
        if not np.array_equal(out[i : i + step], part):
            return w
    return out


def _to_int32(a: np.ndarray) -> np.ndarray:
    """An int32 copy of dense ids (which fit), converted in slices (no second int64 temporary)."""
    out = np.empty(len(a), np.int32)
    step = 1 << 22
    for i in range(0, len(a), step):
        out[i : i + step] = a[i : i + step]
    return out


def _accounts(ids: list[str], net: np.ndarray) -> Accounts:
    n = len(ids)
    return Accounts(
        ids,
        net,
        np.arange(n, dtype=np.int64),
        np.zeros(n),
        np.zeros(n),
        np.full(n, np.nan),
        list(ids),
    )


def _text_accounts(tokens: Any, network: str) -> Accounts:
    ids = tokens.to_pylist()
    net = np.full(len(ids), network_code(network), np.uint8)
    prefixed = np.flatnonzero(pc.match_substring(tokens, ":").to_numpy(zero_copy_only=False))
    for i in prefixed.tolist():
        prefix = ids[i].partition(":")[0].lower()
        if prefix in NETWORKS:
            net[i] = NETWORKS.index(prefix)
    return _accounts(ids, net)
