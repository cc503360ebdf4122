"""Every kernel against the slow references in tests/naive.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidEngagementsError, InvalidParametersError, RenownCoreError
from core.graph import aggregate_pairs, build_csr
from core.rank import influence_rank
from tests import naive


@st.composite
def edge_lists(draw, max_n=30, max_m=120, integer=True):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(0, max_m))
    src = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    dst = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    if integer:
        w = draw(st.lists(st.integers(0, 255), min_size=m, max_size=m))
    else:
        w = draw(st.lists(st.floats(0, 1e3, allow_nan=False), min_size=m, max_size=m))
    return n, np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), np.array(w, dtype=np.float64)


@given(edge_lists(integer=True))
def test_build_csr_matches_naive_integer_weights(case):
    n, src, dst, w = case
    g = build_csr(src, dst, w, n)
    indptr, indices, weights, out = naive.build_csr(src, dst, w, n)
    assert g.weights.dtype == np.uint8
    assert g.indptr.tolist() == indptr
    assert g.indices.tolist() == indices
    assert g.weights.astype(float).tolist() == weights
    np.testing.assert_allclose(g.out_weight, out)


@given(edge_lists(integer=False))
def test_build_csr_matches_naive_float_weights(case):
    n, src, dst, w = case
    g = build_csr(src, dst, w, n)
    indptr, indices, weights, out = naive.build_csr(src, dst, w, n)
    assert g.indptr.tolist() == indptr
    assert g.indices.tolist() == indices
    np.testing.assert_allclose(g.weights, np.float32(weights), rtol=1e-6)
    np.testing.assert_allclose(g.out_weight, out, rtol=1e-12, atol=1e-9)


def test_build_csr_unit_weights_and_errors():
    g = build_csr(np.array([0, 0]), np.array([1, 1]), None, 2)
    assert g.weights.tolist() == [1, 1] and g.out_weight.tolist() == [2.0, 0.0]
    with pytest.raises(InvalidEngagementsError, match="node indices"):
        build_csr(np.array([0, 5]), np.array([1, 1]), None, 2)
    with pytest.raises(InvalidEngagementsError, match="finite"):
        build_csr(np.array([0]), np.array([1]), np.array([-1.0]), 2)
    with pytest.raises(InvalidParametersError):
        build_csr(np.array([0]), np.array([0]), None, 0)
    with pytest.raises(RenownCoreError):
        build_csr(np.array([0.5]), np.array([0]), None, 1)


@given(edge_lists(integer=False))
def test_aggregate_pairs_matches_naive(case):
    n, src, dst, w = case
    vals = np.stack([w, 2 * w], axis=1)
    indptr, indices, sums = aggregate_pairs(src, dst, vals, n)
    r_indptr, r_indices, r_sums = naive.aggregate_pairs(src, dst, vals, n)
    assert indptr.tolist() == r_indptr
    assert indices.tolist() == r_indices
    np.testing.assert_allclose(sums, np.array(r_sums).reshape(-1, 2), rtol=1e-12, atol=1e-9)


@given(
    edge_lists(integer=True), st.floats(0.5, 0.95), st.booleans(), st.sampled_from(["jacobi", "gauss-seidel"])
)
def test_influence_rank_matches_naive(case, damping, personalised, method):
    n, src, dst, w = case
    g = build_csr(src, dst, w, n)
    rng = np.random.default_rng(len(src))
    tele = rng.uniform(0.1, 2.0, size=n) if personalised else None
    x, it, res = influence_rank(g, tele, damping=damping, tol=1e-10, max_iter=1000, method=method)
    ref = naive.rank(n, list(zip(src.tolist(), dst.tolist(), w.tolist(), strict=True)), tele, None, damping)
    assert res < 1e-10 or it == 1000
    assert abs(x.sum() - 1.0) < 1e-9
    np.testing.assert_allclose(x, ref, atol=1e-6)


def test_influence_rank_leaky_scale_and_warm_start():
    src = np.array([0, 1, 2, 3, 3, 4])
    dst = np.array([1, 2, 0, 0, 1, 3])
    w = np.array([1.0, 2.0, 1.0, 3.0, 1.0, 1.0])
    g = build_csr(src, dst, w, 5)
    scale = 0.5 / (g.out_weight + 1.0)
    x, _, _ = influence_rank(g, None, tol=1e-12, max_iter=1000, out_scale=scale)
    ref = naive.rank(5, list(zip(src.tolist(), dst.tolist(), w.tolist(), strict=True)), None, scale.tolist())
    np.testing.assert_allclose(x, ref, atol=1e-7)
    x2, it2, _ = influence_rank(g, None, tol=1e-12, max_iter=1000, out_scale=scale, x0=x)
    assert it2 <= 3
    np.testing.assert_allclose(x2, x, atol=1e-7)


def test_influence_rank_validates():
    g = build_csr(np.array([0]), np.array([1]), None, 2)
    with pytest.raises(InvalidParametersError, match="damping"):
        influence_rank(g, damping=1.0)
    with pytest.raises(InvalidParametersError, match="teleport"):
        influence_rank(g, np.array([1.0]))
    with pytest.raises(InvalidParametersError, match="teleport"):
        influence_rank(g, np.array([0.0, 0.0]))
    with pytest.raises(InvalidParametersError, match="rank cannot be created"):
        influence_rank(g, out_scale=np.array([2.0, 0.0]))
    with pytest.raises(InvalidParametersError, match="CSRGraph"):
        influence_rank("graph")  # type: ignore[arg-type]


def test_influence_rank_agrees_with_scipy_on_power_law():
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(1)
    n, m = 3000, 30000
    src = rng.integers(0, n, m)
    dst = np.minimum((rng.pareto(1.1, m) * 50).astype(np.int64), n - 1)
    g = build_csr(src, dst, None, n)
    x, _, _ = influence_rank(g, tol=1e-10, max_iter=500)
    a = sp.csr_matrix((np.ones(m), (src, dst)), shape=(n, n))
    out = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    p = (sp.diags(inv) @ a).T.tocsr()
    y = np.full(n, 1.0 / n)
    for _ in range(500):
        f = 0.85 * (p @ y)
        new = f + (1 - f.sum()) / n
        done = np.abs(new - y).sum() < 1e-10
        y = new
        if done:
            break
    np.testing.assert_allclose(x, y, atol=1e-8)
