"""The model's steps (core.model), the flow kernels (core.flow) and the partitioned solve's numeric part
(core.partitioned) against slow references, the scalar forms against the array forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import flow, model, partitioned
from core.errors import InvalidParametersError
from core.scoring import prepare_graph
from core.types import ENGAGEMENT_TYPES
from core.versions import get_version
from tests import naive
from tests.core.synth import NOW, population

DAY = model.DAY


def _rows(seed: int, n: int = 40, m: int = 300) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    dst = np.sort(rng.integers(0, n, m))
    indptr = np.searchsorted(dst, np.arange(n + 1)).astype(np.int64)
    indices = rng.integers(0, n, m).astype(np.int32)
    weights = rng.uniform(0, 3, m).astype(np.float32)
    return indptr, indices, weights, rng.uniform(0, 1, m), rng.uniform(0, 1, n), rng.uniform(0, 1, n)


@given(st.integers(0, 10_000))
def test_pull_matches_the_reference(seed: int) -> None:
    indptr, indices, weights, _, a, _ = _rows(seed)
    y = a.astype(np.float32)
    got = flow.pull(indptr, indices, weights, y, 0.85)
    np.testing.assert_allclose(got, naive.pull(indptr, indices, weights, y, 0.85), rtol=1e-12, atol=0)


@given(st.integers(0, 10_000))
def test_inflows_match_the_reference(seed: int) -> None:
    indptr, indices, weights, frac, a, b = _rows(seed)
    got = flow.inflows(indptr, indices, weights, frac, a, b, 0.85)
    ref = naive.inflows(indptr, indices, weights, frac, a, b, 0.85)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-12, atol=0)


def test_kernels_reject_bad_rows() -> None:
    indptr, indices, weights, frac, a, b = _rows(1)
    with pytest.raises(InvalidParametersError):
        flow.pull(indptr, indices, weights, a[:3].astype(np.float32), 0.85)
    with pytest.raises(InvalidParametersError):
        flow.inflows(indptr[:-1], indices, weights, frac, a, b, 0.85)
    with pytest.raises(InvalidParametersError):
        flow.inflows(indptr, indices, weights, frac[:-1], a, b, 0.85)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_scalar_forms_agree_with_the_array_forms(version: str) -> None:
    params = get_version(version)
    rng = np.random.default_rng(5)
    ts = NOW - rng.uniform(-2, 90, 500) * DAY
    etype = rng.integers(0, len(ENGAGEMENT_TYPES), 500).astype(np.uint8)
    weight = rng.integers(1, 5, 500).astype(np.float64)
    counts, _, _ = model.decayed_counts(weight, etype, ts, params, NOW)
    scalar = [
        model.decayed_count(w, ENGAGEMENT_TYPES[e], t, NOW, params)
        for w, e, t in zip(weight.tolist(), etype.tolist(), ts.tolist(), strict=True)
    ]
    np.testing.assert_allclose(counts, scalar, rtol=1e-13)
    pc = rng.uniform(0, 50, 500)
    np.testing.assert_allclose(
        model.pair_weights(pc, params.pair_exponent),
        [model.pair_weight(c, params.pair_exponent) for c in pc.tolist()],
        rtol=2e-7,  # float32 rounding of values that differ by an ulp
    )
    posts = rng.integers(0, 500, 200).astype(np.float64)
    np.testing.assert_allclose(
        model.volume_divisors(posts, params),
        [model.volume_divisor(p, params) for p in posts.tolist()],
        rtol=1e-14,
    )


def test_build_rows_of_one_partition_is_the_core_graph() -> None:
    eng, acc = population(400, 5000, seed=3)
    params = get_version("v2")
    graph = prepare_graph(eng, acc, params, NOW)
    g = {
        "src": eng.src, "dst": eng.dst, "weight": eng.weight, "etype": eng.etype, "ts": eng.ts,
        "followers": acc.followers, "posts": acc.posts,
    }  # fmt: skip
    cand = model.fresh_candidates(acc.created, acc.followers, params, NOW)
    rows = partitioned.build_rows(g, 0, cand, params, NOW)
    assert (rows.indptr == graph.csr.indptr).all()
    assert (rows.halo[rows.indices] == graph.csr.indices).all()
    assert (rows.weights == graph.csr.weights).all() and (rows.amp_frac == graph.amp_frac).all()
    assert (rows.fresh == graph.fresh).all() and (rows.volume == graph.volume).all()
    out_weight = np.zeros(acc.n_accounts)
    out_weight[rows.halo] = rows.out_partial
    assert (out_weight == graph.csr.out_weight).all()
    terms = partitioned.setup_rows(out_weight, rows.fresh, rows.tele_raw, float(rows.tele_raw.sum()), params)
    assert (terms["scale"] == graph.scale).all() and (terms["teleport"] == graph.teleport).all()


def test_convergence_needs_passes_from_one() -> None:
    with pytest.raises(InvalidParametersError):
        partitioned.convergence(0, [1.0], [0.5], None, get_version("v1"))
