"""Sketch, shift report pieces, Kendall tau, PNG encoder, solver choice."""

from __future__ import annotations

import itertools
import struct
import zlib

import numpy as np
import pytest

from core.calibration import apply_calibration, fit_calibration
from functions.rescore import report as shift
from functions.rescore.png import encode_png, histogram_png
from functions.rescore.prepare import choose_solver
from functions.rescore.sketch import Sketch, merge


def test_sketch_merge_is_order_free_and_counts_everything() -> None:
    rng = np.random.default_rng(1)
    parts = [rng.lognormal(size=500) for _ in range(5)]
    a = merge(Sketch.of(p) for p in parts)
    b = merge(Sketch.of(p) for p in reversed(parts))
    assert np.array_equal(a.index, b.index) and np.array_equal(a.count, b.count)
    assert int(a.count.sum()) == 2500
    assert np.allclose(a.total.sum(), sum(p.sum() for p in parts))


def test_fit_from_merged_sketches_matches_the_core_fit() -> None:
    rng = np.random.default_rng(2)
    raw = np.concatenate([rng.lognormal(size=20_000), np.full(500, 0.3), np.zeros(10)])
    core = fit_calibration(raw)
    parts = np.array_split(rng.permutation(raw), 7)
    ours = merge(Sketch.of(p) for p in parts).fit()
    assert ours.population == core.population
    diff = np.abs(apply_calibration(raw, ours) - apply_calibration(raw, core))
    assert diff.max() < 0.01


def test_kendall_tau_b_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 20, size=60).astype(float)
    y = x + rng.normal(0, 4, size=60).round()
    conc = disc = tx = ty = 0
    for i, j in itertools.combinations(range(60), 2):
        s = np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
        conc += s > 0
        disc += s < 0
        tx += x[i] == x[j]
        ty += y[i] == y[j]
    n0 = 60 * 59 / 2
    expected = (conc - disc) / np.sqrt((n0 - tx) * (n0 - ty))
    assert shift.kendall_tau_b(x, y) == pytest.approx(expected)


def test_partition_parts_merge_into_a_report() -> None:
    ids = [f"p{i}" for i in range(10)]
    old = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, np.nan])
    new = np.array([12, 20, 25, 40, 70, 60, 70, 79, 95, 50.0])
    half = [
        shift.partition_part(ids[:5], ids[:5], new[:5], old[:5], {}, 1.0),
        shift.partition_part(ids[5:], ids[5:], new[5:], old[5:], {}, 1.0),
    ]
    merged = shift.merge_parts(half, "v2", "v1")
    assert (merged["up"], merged["down"], merged["same"], merged["new_profiles"]) == (3, 2, 4, 1)
    assert sum(merged["delta_histogram"]["counts"]) == 9
    assert merged["biggest_gains"][0]["profile_id"] == "p4"
    assert merged["biggest_losses"][0]["profile_id"] == "p2"
    assert merged["top_k_overlap"]["10"] is None  # fewer than 10 compared
    assert 0.8 < merged["kendall_tau_b"] <= 1.0


def _chunks(png: bytes) -> dict[bytes, bytes]:
    out, pos = {}, 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + data)
        out[kind] = data
        pos += 12 + length
    return out


def test_png_is_well_formed() -> None:
    img = np.zeros((4, 5, 3), np.uint8)
    img[1, 2] = (255, 0, 0)
    chunks = _chunks(encode_png(img))
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    assert (width, height) == (5, 4)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == 4 * (1 + 5 * 3) and raw[1 * 16 + 1 + 2 * 3] == 255
    plot = histogram_png([0, 3, 10, 2], [-10.0, -5.0, 0.0, 5.0, 10.0])
    assert plot.startswith(b"\x89PNG") and b"IEND" in plot


def test_solver_choice_by_size() -> None:
    assert choose_solver(1_999_999, 10_000, "auto", None) == ("single", 1)
    assert choose_solver(50_000_000_000, 1_000_000_000, "auto", None) == ("distributed", 2_000)
    assert choose_solver(100, 10, "distributed", 4) == ("distributed", 4)
