"""The kernels give the reference results with NUMBA_DISABLE_JIT=1 (pure Python execution)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import numpy as np
from tests import naive
from core.graph import aggregate_pairs, build_csr
from core.rank import influence_rank
from core.scoring import score_population
from core.versions import get_version
import dataclasses
from tests.core.synth import NOW, population

src = np.array([0, 1, 2, 3, 3, 1]); dst = np.array([1, 2, 0, 0, 1, 2]); w = np.array([1.0, 2, 1, 3, 1, 4])
g = build_csr(src, dst, w, 4)
ref = naive.build_csr(src, dst, w, 4)
assert g.indptr.tolist() == ref[0] and g.indices.tolist() == ref[1]
ip, ix, sums = aggregate_pairs(src, dst, w[:, None], 4)
r = naive.aggregate_pairs(src, dst, w[:, None], 4)
assert ip.tolist() == r[0] and ix.tolist() == r[1]
for method in ("jacobi", "gauss-seidel"):
    x, it, res = influence_rank(g, tol=1e-12, max_iter=2000, method=method)
    xr = naive.rank(4, list(zip(src.tolist(), dst.tolist(), w.tolist())))
    assert np.abs(x - np.array(xr)).max() < 1e-6, (x, xr)
eng, acc = population(n=60, m=400, seed=1)
p = dataclasses.replace(get_version("v1"), tol=1e-12, max_iter=2000)
res = score_population(eng, acc, p, now=NOW)
raw, _, _ = naive.score_raw(eng, acc, p, NOW)
assert np.allclose(res.raw_account, raw, rtol=1e-6, atol=1e-7)
from core.digit_lines import parse_digit_lines
text = b"7 2 3\r\n10 7 1\n0 7 1000000000000000"
cols = (np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1))
(s_, d_, w_), end = parse_digit_lines(np.frombuffer(text, np.uint8), 32, cols, 0)
assert [s_[:end].tolist(), d_[:end].tolist(), w_[:end].tolist()] == list(naive.digit_lines(text, 32))
assert parse_digit_lines(np.frombuffer(b"1 2 3\n1 2 -3\n", np.uint8), 32, cols, 0) is None
import numba
assert numba.config.DISABLE_JIT
print("ok")
"""


def test_kernels_without_jit():
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
