"""CSV lines of text cells followed by numbers with two decimals, formatted by one parallel kernel.

``f"{x:.2f}"`` of a million floats through Python or pyarrow's string kernels costs about a second
per column pair; here every value becomes its cents (``rint(x * 100)``) and the kernel writes the
digits straight into the output buffer, rows in parallel. The few values where ``x * 100`` lies
within rounding error of a half (or that are negative, from 1e7, or not finite) are formatted by Python,
so the text is exactly ``f"{x:.2f}"`` (checked against the reference writer of ``renown score``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from numba import njit, prange

__all__ = ["fixed2_lines"]

#: Values from here on go to Python: ``x * 100`` must be within 1e-6 of its exact value (its half ulp
#: is 6e-8 below 1e9) for the distance to a half to decide the rounding.
_EXACT = 1e7
#: Rows per chunk of the parallel kernel.
_ROWS = 1 << 14


def _cents(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cents of each value, and which values Python must format (cents then unused)."""
    with np.errstate(invalid="ignore", over="ignore"):
        x100 = values * 100.0
        frac = x100 - np.floor(x100)
        odd = ~np.isfinite(values) | np.signbit(values) | (values >= _EXACT) | (np.abs(frac - 0.5) < 1e-6)
        cents = np.where(odd, 0.0, np.rint(x100)).astype(np.int64)
    return cents, odd


@njit(cache=True)
def _digits(v):  # pragma: no cover - compiled
    d = 1
    while v >= 10:
        v //= 10
        d += 1
    return d


@njit(cache=True)
def _cell_len(cents, slot, odd_off):  # pragma: no cover - compiled
    if slot >= 0:
        return odd_off[slot + 1] - odd_off[slot]
    return _digits(cents // 100) + 3


@njit(parallel=True, cache=True)
def _line_lengths(text_off, cents, slots, odd_off, out):  # pragma: no cover - compiled
    n = len(text_off) - 1
    k = cents.shape[0]
    for i in prange(n):
        size = text_off[i + 1] - text_off[i] + 1  # the text and the line end
        for c in range(k):
            size += 1 + _cell_len(cents[c, i], slots[c, i], odd_off)
        out[i] = size


@njit(parallel=True, cache=True)
def _fill(text_off, text, cents, slots, odd_off, odd_text, starts, buf):  # pragma: no cover - compiled
    n = len(text_off) - 1
    k = cents.shape[0]
    for chunk in prange((n + _ROWS - 1) // _ROWS):
        for i in range(chunk * _ROWS, min(n, (chunk + 1) * _ROWS)):
            p = starts[i]
            for j in range(text_off[i], text_off[i + 1]):
                buf[p] = text[j]
                p += 1
            for c in range(k):
                buf[p] = 44  # ','
                p += 1
                s = slots[c, i]
                if s >= 0:
                    for j in range(odd_off[s], odd_off[s + 1]):
                        buf[p] = odd_text[j]
                        p += 1
                    continue
                v = cents[c, i]
                units = v // 100
                d = _digits(units)
                for t in range(d - 1, -1, -1):
                    buf[p + t] = 48 + units % 10
                    units //= 10
                p += d
                r = v % 100
                buf[p] = 46  # '.'
                buf[p + 1] = 48 + r // 10
                buf[p + 2] = 48 + r % 10
                p += 3
            buf[p] = 10  # '\n'


def fixed2_lines(text: Any, columns: list[np.ndarray]) -> np.ndarray:
    """Bytes of the lines ``text[i],f"{c0[i]:.2f}",f"{c1[i]:.2f}",...\\n`` for every row ``i``.

    Parameters
    ----------
    text : pyarrow string array
        The first cells of each line, already joined and quoted as CSV wants them.
    columns : list of ndarray
        Number columns (float64), one value per row each.

    Returns
    -------
    ndarray of uint8
        The lines, concatenated.

    Examples
    --------
    >>> out = fixed2_lines(pa.array(["a", "b"]), [np.array([1.005, 2.5]), np.array([0.0, 99.999])])
    >>> bytes(out).decode()
    'a,1.00,0.00\\nb,2.50,100.00\\n'
    """
    text = text.cast(pa.large_string()) if not pa.types.is_large_string(text.type) else text
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    n = len(text)
    bufs = text.buffers()
    text_off = np.frombuffer(bufs[1], dtype=np.int64)[text.offset : text.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    k = len(columns)
    cents = np.empty((k, n), np.int64)
    slots = np.full((k, n), -1, np.int32)
    odd_cells: list[bytes] = []
    for c, col in enumerate(columns):
        values = np.ascontiguousarray(col, dtype=np.float64)
        cents[c], odd = _cents(values)
        rows = np.flatnonzero(odd)
        slots[c, rows] = np.arange(len(odd_cells), len(odd_cells) + len(rows))
        odd_cells += [f"{x:.2f}".encode() for x in values[rows].tolist()]
    odd_off = np.zeros(len(odd_cells) + 1, np.int64)
    np.cumsum([len(b) for b in odd_cells], out=odd_off[1:])
    odd_text = np.frombuffer(b"".join(odd_cells), dtype=np.uint8) if odd_cells else np.zeros(0, np.uint8)
    lengths = np.empty(n, np.int64)
    _line_lengths(text_off, cents, slots, odd_off, lengths)
    starts = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=starts[1:])
    buf = np.empty(int(starts[-1]), np.uint8)
    _fill(text_off, data, cents, slots, odd_off, odd_text, starts, buf)
    return buf
