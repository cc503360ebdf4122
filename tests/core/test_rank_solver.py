"""influence_rank: block Gauss-Seidel vs Jacobi, determinism across thread counts and kernels."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import core.rank as rank_mod
from core.graph import build_csr
from core.rank import influence_rank
from tests import naive


def _graph(n=2000, m=30000, seed=5):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    dst = perm[(n * rng.random(m) ** 2.5).astype(np.int64)]
    src = perm[(n * rng.random(m) ** 1.6).astype(np.int64)]
    w = rng.geometric(0.6, size=m).clip(max=20).astype(np.float64)
    return n, src, dst, w


def test_gauss_seidel_and_jacobi_reach_the_same_fixed_point_gs_in_fewer_passes():
    n, src, dst, w = _graph()
    g = build_csr(src, dst, w, n)
    tele = np.random.default_rng(1).uniform(0.5, 2.0, n)
    xj, itj, _ = influence_rank(g, tele, tol=1e-8, max_iter=500, method="jacobi")
    xg, itg, _ = influence_rank(g, tele, tol=1e-8, max_iter=500, method="gauss-seidel")
    np.testing.assert_allclose(xg, xj, atol=1e-8)
    assert itg < itj < 500

    ref = naive.rank(n, list(zip(src.tolist(), dst.tolist(), w.tolist(), strict=True)), tele.tolist())
    np.testing.assert_allclose(xg, ref, atol=1e-8)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="needs the compiled kernels")
@pytest.mark.parametrize("method", ["gauss-seidel", "jacobi"])
def test_parallel_and_serial_kernels_give_identical_ranks(monkeypatch, method):
    n, src, dst, w = _graph(n=3000, m=40000, seed=9)
    g = build_csr(src, dst, w, n)
    monkeypatch.setattr(rank_mod, "PARALLEL_MIN_EDGES", 0)
    threads = numba.get_num_threads()
    x_par, it_par, r_par = influence_rank(g, tol=1e-9, method=method)
    numba.set_num_threads(1)  # serial kernels
    try:
        x_ser, it_ser, r_ser = influence_rank(g, tol=1e-9, method=method)
    finally:
        numba.set_num_threads(threads)
    assert it_par == it_ser and r_par == r_ser
    np.testing.assert_array_equal(x_par, x_ser)


def test_warm_start_from_the_fixed_point_stops_at_once():
    n, src, dst, w = _graph(n=500, m=6000, seed=2)
    g = build_csr(src, dst, w, n)
    x, _, _ = influence_rank(g, tol=1e-8, max_iter=500)
    x2, it2, _ = influence_rank(g, tol=1e-6, max_iter=500, x0=x)
    assert it2 == 1
    np.testing.assert_allclose(x2, x, atol=1e-8)


@pytest.mark.parametrize("method", ["gauss-seidel", "jacobi"])
def test_switching_between_serial_and_parallel_blocks_keeps_the_ranks(monkeypatch, method):
    # the pace may run any block or finish with either kernel: the ranks must not depend on its choices
    n, src, dst, w = _graph(n=3000, m=40000, seed=4)
    g = build_csr(src, dst, w, n)
    monkeypatch.setattr(rank_mod, "PARALLEL_MIN_EDGES", 0)
    runs = {}
    for name, choices in (("parallel", [True]), ("serial", [False]), ("mixed", [True, False, False])):
        calls = iter(choices * 10_000)
        monkeypatch.setattr(rank_mod._Pace, "pick", lambda self, calls=calls: self.parallel and next(calls))
        runs[name] = influence_rank(g, tol=1e-9, method=method)
    for name in ("serial", "mixed"):
        assert runs[name][1:] == runs["parallel"][1:]
        np.testing.assert_array_equal(runs[name][0], runs["parallel"][0])


def test_pace_prefers_the_faster_kernel_and_retries_the_other():
    pace = rank_mod._Pace(parallel=True, retry=3)
    assert pace.pick() is True  # starts parallel
    pace.record(True, 0.500, 1000.0, balance=0.0)  # the first block (pool wake-up, page faults): not judged
    assert pace.pick() is True and pace.rate[True] is None
    pace.record(True, 0.010, 1000.0, balance=1.0)
    assert pace.pick() is True  # the other threads did their share: no serial trial
    pace.record(True, 0.030, 1000.0, balance=0.1)  # one thread got (almost) no CPU
    assert pace.pick() is False  # try serial
    pace.record(False, 0.015, 1000.0)
    assert pace.pick() is False  # serial was faster than the parallel average (0.020)
    for _ in range(2):
        pace.record(False, 0.015, 1000.0)
    assert pace.pick() is True  # parallel again after `retry` blocks
    pace.record(True, 0.005, 1000.0, balance=1.0)
    assert pace.pick() is True and pace.retry == 3  # the trial won: same retry interval
    assert rank_mod._Pace(parallel=False).pick() is False


def test_pace_waits_longer_after_a_lost_trial():
    pace = rank_mod._Pace(parallel=True, retry=2)
    pace.record(True, 0.010, 1000.0, balance=0.0)  # not judged
    pace.record(True, 0.010, 1000.0, balance=0.0)
    assert pace.pick() is False
    pace.record(False, 0.004, 1000.0)
    pace.record(False, 0.004, 1000.0)
    assert pace.pick() is True  # trial of the parallel kernel
    pace.record(True, 0.020, 1000.0, balance=0.0)  # lost
    assert pace.retry == 4
    picks = []
    for _ in range(4):
        picks.append(pace.pick())
        pace.record(picks[-1], 0.004 if not picks[-1] else 0.020, 1000.0, balance=0.0)
    assert picks == [False, False, False, False]
    assert pace.pick() is True


def test_parallel_and_serial_kernels_are_distinct_functions():
    # numba keys a function's cache by name, signature, CPU and bytecode, not by its options: a parallel
    # and a serial dispatcher of one Python function would load whichever was cached first
    for par, ser in (
        (rank_mod._block_par, rank_mod._block_ser),
        (rank_mod._finish_par, rank_mod._finish_ser),
    ):
        if not numba.config.DISABLE_JIT:
            assert par.targetoptions.get("parallel") and not ser.targetoptions.get("parallel")
            par, ser = par.py_func, ser.py_func
        assert par is not ser and par.__qualname__ != ser.__qualname__
