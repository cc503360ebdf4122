r"""Edge lists of whole numbers (``source target weight`` lines of digits) parsed by one parallel kernel.

The generated and exported edge lists of most users are three columns of digits separated by one
blank or one tab. pyarrow's CSV reader turns them into columns at about 6.5 million rows per CPU
second here (its tokenizer, then a conversion per column); this kernel reads the digits of each line
straight into the int64 and float64 columns, in parallel over chunks of whole lines, at several times
that rate. It accepts that one layout only and gives up (``None``) on any other byte: a sign, a
decimal point, a comment, an empty line, two blanks, a NUL, a token of more than 18 digits, a weight
above :data:`core.edgelist.MAX_WEIGHT`. The caller then reads the file through pyarrow and the
validating pass, which keep every rule and name the bad line. What the kernel does accept it reads
exactly as pyarrow does (``007`` is 7, a line may end in ``\r\n``, the last one may lack its line
end).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["parse_digit_lines"]

#: Tokens of more than this many digits could overflow int64: left to the general reader.
MAX_TOKEN_DIGITS = 18
#: Weights above this are refused by the readers (``core.edgelist.MAX_WEIGHT``).
MAX_WEIGHT_INT = 10**15
#: Chunks of lines per call, claimed by the threads in turn.
CHUNKS = 64


@njit(cache=True)
def _cut(buf, at):  # pragma: no cover - compiled
    """The position just after the first line end at or after ``at`` (``len(buf)`` if none)."""
    n = len(buf)
    i = at
    while i < n and buf[i] != 10:
        i += 1
    return min(n, i + 1) if at > 0 else 0


@njit(parallel=True, cache=True)
def _count_lines(buf, bounds, counts):  # pragma: no cover - compiled
    n = len(buf)
    for c in prange(len(counts)):
        a = bounds[c]
        b = bounds[c + 1]
        k = 0
        for i in range(a, b):
            k += buf[i] == 10
        if b > a and b == n and buf[n - 1] != 10:
            k += 1  # the last line, without its line end
        counts[c] = k


@njit(cache=True)
def _number(buf, i, b):  # pragma: no cover - compiled
    """Digits from ``buf[i]`` on: (value, digits read, next position)."""
    v = np.int64(0)
    d = 0
    while i < b:
        x = np.int64(buf[i]) - 48
        if x < 0 or x > 9:
            break
        if d < MAX_TOKEN_DIGITS:  # more digits: refused, never summed into an overflow
            v = v * 10 + x
        d += 1
        i += 1
    return v, d, i


@njit(cache=True)
def _parse_chunk(buf, a, b, sep, r, src, dst, w):  # pragma: no cover - compiled
    """Lines of ``buf[a:b]`` into rows ``r, r + 1, ...``; False at the first line of another layout."""
    i = a
    while i < b:
        v, d, i = _number(buf, i, b)
        if d == 0 or d > MAX_TOKEN_DIGITS or i >= b or buf[i] != sep:
            return False
        src[r] = v
        v, d, i = _number(buf, i + 1, b)
        if d == 0 or d > MAX_TOKEN_DIGITS or i >= b or buf[i] != sep:
            return False
        dst[r] = v
        v, d, i = _number(buf, i + 1, b)
        if d == 0 or d > MAX_TOKEN_DIGITS or v > MAX_WEIGHT_INT:
            return False
        w[r] = np.float64(v)
        if i < b and buf[i] == 13:
            i += 1
        if i < b:
            if buf[i] != 10:
                return False
            i += 1
        r += 1
    return True


@njit(parallel=True, cache=True)
def _parse(buf, bounds, starts, sep, src, dst, w, ok):  # pragma: no cover - compiled
    for c in prange(len(ok)):
        ok[c] = _parse_chunk(buf, bounds[c], bounds[c + 1], sep, starts[c], src, dst, w)


@njit(cache=True)
def _bounds(buf, chunks):  # pragma: no cover - compiled
    n = len(buf)
    bounds = np.empty(chunks + 1, np.int64)
    for c in range(chunks):
        bounds[c] = _cut(buf, n * c // chunks)
    bounds[chunks] = n
    for c in range(1, chunks + 1):
        bounds[c] = max(bounds[c], bounds[c - 1])
    return bounds


def _grow(a: np.ndarray, size: int) -> np.ndarray:
    if a.flags.owndata and a.flags.writeable:
        a.resize(size, refcheck=False)
        return a
    b = np.empty(size, a.dtype)
    b[: min(len(a), size)] = a[:size]
    return b


def parse_digit_lines(
    buf: np.ndarray,
    sep: int,
    columns: tuple[np.ndarray, np.ndarray, np.ndarray],
    pos: int,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int] | None:
    r"""Parse ``source target weight`` lines of digits into columns, rows ``pos`` on.

    Parameters
    ----------
    buf : ndarray of uint8
        Whole lines of text (a file, or a part of one cut just after a line end).
    sep : int
        The field separator, ``ord(" ")`` or ``ord("\t")``.
    columns : tuple of ndarray
        ``(source int64, target int64, weight float64)``, grown (``ndarray.resize``) when too short.
    pos : int
        The row the first line of ``buf`` goes to.

    Returns
    -------
    (columns, end) or None
        The (possibly grown) columns and the row after the last one written, or ``None`` when a line
        is not three fields of digits separated by one ``sep`` (rows from ``pos`` on are then
        undefined).

    Examples
    --------
    >>> cols = (np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1))
    >>> (s, d, w), end = parse_digit_lines(np.frombuffer(b"7 2 3\n10 7 1", np.uint8), 32, cols, 0)
    >>> s[:end].tolist(), d[:end].tolist(), w[:end].tolist()
    ([7, 10], [2, 7], [3.0, 1.0])
    >>> parse_digit_lines(np.frombuffer(b"7 2 1.5\n", np.uint8), 32, cols, 0) is None
    True
    """
    if buf.dtype != np.uint8 or buf.ndim != 1:
        raise TypeError("buf must be a 1-d uint8 array")
    if sep not in (9, 32):
        raise ValueError("sep must be a blank (32) or a tab (9)")
    src, dst, w = columns
    if not (src.dtype == np.int64 and dst.dtype == np.int64 and w.dtype == np.float64):
        raise TypeError("columns must be (int64, int64, float64)")
    if len(buf) == 0:
        return columns, pos
    bounds = _bounds(buf, CHUNKS)
    counts = np.empty(CHUNKS, np.int64)
    _count_lines(buf, bounds, counts)
    starts = np.empty(CHUNKS, np.int64)
    starts[0] = pos
    np.cumsum(counts[:-1], out=starts[1:])
    starts[1:] += pos
    end = pos + int(counts.sum())
    if end > min(len(src), len(dst), len(w)):
        size = max(end, 2 * len(src))
        src, dst, w = _grow(src, size), _grow(dst, size), _grow(w, size)
    ok = np.empty(CHUNKS, np.bool_)
    _parse(buf, bounds, starts, np.uint8(sep), src, dst, w, ok)
    if not ok.all():
        return None
    return (src, dst, w), end
