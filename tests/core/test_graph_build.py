"""build_csr: rows sorted by engager (the solver's gather order), long rows, odd weights, chunking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidEngagementsError
from core.graph import build_csr, row_chunks
from core.rank import influence_rank
from tests import naive


def _check(src, dst, w, n):
    g = build_csr(src, dst, w, n)
    indptr, indices, weights, out = naive.build_csr(src, dst, w, n)
    assert g.indptr.tolist() == indptr
    assert g.indices.tolist() == indices
    np.testing.assert_array_equal(g.weights.astype(np.float64), np.float32(weights).astype(np.float64))
    np.testing.assert_allclose(g.out_weight, out, rtol=1e-12)
    for v in range(n):
        row = g.indices[g.indptr[v] : g.indptr[v + 1]]
        assert (np.diff(row) >= 0).all()
    return g


@pytest.mark.parametrize("integer", [True, False])
def test_long_rows_with_duplicates_are_sorted(integer):
    # rows far longer than the insertion-sort cut-off, many duplicate pairs with different weights
    rng = np.random.default_rng(7)
    n, m = 50, 6000
    src = rng.integers(0, n, m)
    dst = np.minimum(rng.geometric(0.2, m), n - 1)
    w = rng.integers(0, 256, m).astype(np.float64) if integer else rng.uniform(0, 5, m)
    g = _check(src, dst, w, n)
    assert g.weights.dtype == (np.uint8 if integer else np.float32)


def test_negative_zero_and_already_sorted_rows():
    src = np.array([3, 1, 1, 0, 0, 2] * 10)
    dst = np.array([0, 0, 0, 1, 1, 1] * 10)
    w = np.array([0.5, -0.0, 0.0, 2.0, 1.5, 0.25] * 10)
    g = _check(src, dst, w, 4)
    assert not np.signbit(g.weights).any()
    src = np.arange(40) % 8
    _check(np.sort(src), np.zeros(40, np.int64), None, 8)


def test_weights_checked_in_one_pass():
    with pytest.raises(InvalidEngagementsError, match="finite"):
        build_csr(np.array([0, 1]), np.array([1, 0]), np.array([1.0, np.nan]), 2)
    with pytest.raises(InvalidEngagementsError, match="finite"):
        build_csr(np.array([0, 1]), np.array([1, 0]), np.array([np.inf, 1.0]), 2)
    with pytest.raises(InvalidEngagementsError, match="node indices"):
        build_csr(np.array([0, -1]), np.array([1, 0]), None, 2)
    assert build_csr(np.array([0]), np.array([1]), np.array([256.0]), 2).weights.dtype == np.float32
    assert build_csr(np.array([0]), np.array([1]), np.array([1.5]), 2).weights.dtype == np.float32
    assert build_csr(np.array([0]), np.array([1]), np.array([255], np.uint8), 2).weights.dtype == np.uint8
    g = build_csr(np.zeros(0, np.int64), np.zeros(0, np.int64), None, 3)
    assert g.indptr.tolist() == [0, 0, 0, 0] and g.nnz == 0


def test_row_chunks_cover_rows_in_order():
    indptr = np.concatenate([[0], np.cumsum(np.array([100, 0, 0, 1, 5, 0, 70, 2]))])
    for k in (1, 3, 8, 50):
        b = row_chunks(indptr, k)
        assert b[0] == 0 and b[-1] == 8 and (np.diff(b) >= 0).all() and len(b) <= min(k, 8) + 1
        assert b.tolist() == naive.row_chunks(indptr, k)


@given(st.lists(st.integers(0, 40), min_size=1, max_size=60), st.integers(1, 300))
def test_row_chunks_match_naive(degrees, k):
    indptr = np.concatenate([[0], np.cumsum(degrees)]).astype(np.int64)
    assert row_chunks(indptr, k).tolist() == naive.row_chunks(indptr, k)


def test_sorted_and_unsorted_rows_rank_the_same():
    rng = np.random.default_rng(3)
    n, m = 400, 5000
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.integers(1, 5, m).astype(np.float64)
    g = build_csr(src, dst, w, n)
    # the same rows reversed (unsorted): the solver must not rely on the order within a row
    idx = g.indices.copy()
    wt = g.weights.copy()
    for v in range(n):
        a, b = g.indptr[v], g.indptr[v + 1]
        idx[a:b] = idx[a:b][::-1]
        wt[a:b] = wt[a:b][::-1]
    g2 = type(g)(n, g.indptr, idx, wt, g.out_weight)
    x1, _, _ = influence_rank(g, tol=1e-12, max_iter=500)
    x2, _, _ = influence_rank(g2, tol=1e-12, max_iter=500)
    np.testing.assert_allclose(x1, x2, atol=1e-12)
