"""A tiny PNG encoder (RGB, 8 bits, no dependencies beyond zlib/struct) and a histogram plot."""

from __future__ import annotations

import struct
import zlib

import numpy as np


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of an ``(height, width, 3)`` uint8 image.

    Examples
    --------
    >>> encode_png(np.zeros((2, 3, 3), np.uint8))[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    img = np.ascontiguousarray(pixels, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError("pixels must have shape (height, width, 3)")
    height, width, _ = img.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = np.concatenate([np.zeros((height, 1), np.uint8), img.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def histogram_png(counts: list[int], edges: list[float], width: int = 640, height: int = 320) -> bytes:
    """Bar chart of a score-change histogram: red bars lose points, green bars gain, grey is the bin
    holding 0; a black baseline and a tick at every 10 points (log-scaled heights so that small bins show)."""
    img = np.full((height, width, 3), 255, np.uint8)
    margin = 20
    plot_w, plot_h = width - 2 * margin, height - 2 * margin
    n = len(counts)
    c = np.log1p(np.asarray(counts, dtype=np.float64))
    top = c.max() if len(c) and c.max() > 0 else 1.0
    bar_w = max(1, plot_w // max(n, 1))
    base_y = margin + plot_h
    for i, value in enumerate(c):
        lo, hi = edges[i], edges[i + 1]
        colour = (200, 60, 60) if hi <= 0 else (60, 160, 80) if lo >= 0 else (140, 140, 140)
        h = round(plot_h * value / top)
        x0 = margin + i * bar_w
        img[base_y - h : base_y, x0 + 1 : x0 + bar_w - 1] = colour
    img[base_y : base_y + 2, margin : margin + n * bar_w] = 0
    span = edges[-1] - edges[0] if len(edges) > 1 else 1.0
    for tick in range(int(np.ceil(edges[0] / 10)) * 10, int(edges[-1]) + 1, 10):
        x = margin + round((tick - edges[0]) / span * n * bar_w)
        img[base_y : base_y + (8 if tick == 0 else 5), max(0, x - 1) : x + 1] = 0
    return encode_png(img)
