"""The per-pair preparation (core.graph.group_pairs, core.pairs) gives, bit for bit, what the model's
literal steps give (core.model on whole arrays, pairs summed in input order), and a compact table
(int32 indices, float32 weights, broadcast columns) scores exactly like the full one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core import model, pairs
from core.graph import DROP_GROUP, DROP_NONE, DROP_SELF, group_pairs
from core.scoring import prepare_graph, score_population
from core.types import Engagements
from core.versions import get_version
from tests import naive
from tests.core.synth import DAY, NOW, population


def _literal_graph(eng, acc, params, now):
    """The preparation as the model states it: whole-array steps, a Python dict per pair."""
    n = acc.n_accounts
    counts, amp_counts, base = model.decayed_counts(eng.weight, eng.etype, eng.ts, params, now)
    keep = eng.src != eng.dst
    vals = np.stack([counts[keep], amp_counts[keep], base[keep]], axis=1)
    indptr, indices, sums = naive.aggregate_pairs(eng.src[keep], eng.dst[keep], vals, n)
    sums = np.array(sums, dtype=np.float64).reshape(-1, 3)
    pair_count = sums[:, 0]
    w32 = model.pair_weights(pair_count, params.pair_exponent)
    amp_frac = model.amplification_share(sums[:, 1], pair_count)
    ix = np.array(indices, dtype=np.int64)
    out_weight = np.bincount(ix, weights=w32.astype(np.float64), minlength=n)
    cand = model.fresh_candidates(acc.created, acc.followers, params, now)
    fresh = model.fresh_flags(cand, np.array(indptr), cand[ix], w32)
    return np.array(indptr), ix, pair_count, sums[:, 2], amp_frac, w32, out_weight, fresh


def _messy(seed: int, m: int = 3000, n: int = 200):
    """A population with self-engagement, repeated pairs, zero weights, unknown and future times and
    fresh candidates."""
    eng, acc = population(n, m, seed=seed)
    rng = np.random.default_rng(seed)
    k = len(eng)
    src = eng.src.copy()
    src[:50] = eng.dst[:50]  # self-engagement
    weight = eng.weight.copy()
    weight[rng.random(k) < 0.03] = 0.0
    weight[rng.random(k) < 0.05] = 0.37  # not exact in float32
    ts = eng.ts.copy()
    ts[rng.random(k) < 0.1] = np.nan
    ts[rng.random(k) < 0.05] = NOW + DAY  # after now: no decay
    created = acc.created.copy()
    created[rng.random(n) < 0.3] = NOW - 2 * DAY  # candidates for fresh
    followers = acc.followers.copy()
    followers[: n // 3] = 0.0
    acc = dataclasses.replace(acc, created=created, followers=followers)
    return Engagements(src, eng.dst, weight, eng.etype, ts), acc


@pytest.mark.parametrize("chunk", [pairs.CHUNK, 7])
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_prepare_graph_is_the_literal_model(monkeypatch, chunk, version):
    monkeypatch.setattr(pairs, "CHUNK", chunk)
    eng, acc = _messy(3)
    params = get_version(version)
    g = prepare_graph(eng, acc, params, NOW)
    indptr, indices, count, nodecay, amp_frac, w32, out_weight, fresh = _literal_graph(eng, acc, params, NOW)
    assert g.fresh.any() and not g.fresh.all()
    np.testing.assert_array_equal(g.csr.indptr, indptr)
    np.testing.assert_array_equal(g.csr.indices, indices)
    for got, want in [(g.pair_count, count), (g.pair_count_nodecay, nodecay), (g.amp_frac, amp_frac),
                      (g.csr.weights, w32), (g.csr.out_weight, out_weight)]:  # fmt: skip
        assert got.dtype == want.dtype
        assert got.tobytes() == want.tobytes()  # bit for bit
    np.testing.assert_array_equal(g.fresh, fresh)


def test_without_decay_the_two_counts_are_one_array():
    eng, acc = _messy(4)
    eng = dataclasses.replace(eng, ts=np.full(len(eng), np.nan))
    g = prepare_graph(eng, acc, get_version("v1"), NOW)
    assert g.pair_count_nodecay is g.pair_count
    assert g.pair_count.tobytes() == _literal_graph(eng, acc, get_version("v1"), NOW)[3].tobytes()


def test_compact_table_scores_bit_for_bit():
    eng, acc = _messy(5)
    eng = dataclasses.replace(eng, weight=np.floor(eng.weight * 3), ts=np.full(len(eng), np.nan))
    eng = dataclasses.replace(eng, etype=np.full(len(eng), 2, np.uint8))
    m = len(eng)
    compact = Engagements(
        eng.src.astype(np.int32),
        eng.dst.astype(np.int32),
        eng.weight.astype(np.float32),
        np.broadcast_to(np.uint8(2), (m,)),
        np.broadcast_to(np.float64(np.nan), (m,)),
    )
    for version in ("v1", "v3"):
        a = score_population(eng, acc, version)
        b = score_population(compact, acc, version)
        for name in ("score", "raw_account", "ranks", "components", "network_scores"):
            assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), (version, name)


@pytest.mark.parametrize("drop", [DROP_NONE, DROP_SELF, DROP_GROUP])
def test_group_pairs_orders_rows_by_author_then_engager_then_input(drop):
    rng = np.random.default_rng(drop)
    n, m = 40, 3000
    src = rng.integers(0, n, m)
    dst = (rng.pareto(1.0, m) * 3).astype(np.int64) % n  # some rows far longer than the insertion sort
    group = rng.integers(0, 25, n)
    rows = group_pairs(src, dst, n, drop, group if drop == DROP_GROUP else None)
    keep = {DROP_NONE: np.ones(m, bool), DROP_SELF: src != dst, DROP_GROUP: group[src] != group[dst]}[drop]
    want = np.lexsort((np.arange(m), src, dst))
    want = want[keep[want]]
    assert rows.order.dtype == np.int32 and rows.weight is None
    np.testing.assert_array_equal(rows.order, want)
    weight = rng.random(m).astype(np.float32)
    carried = group_pairs(src, dst, n, drop, group if drop == DROP_GROUP else None, weight)
    np.testing.assert_array_equal(carried.order, want)
    np.testing.assert_array_equal(carried.engager, rows.engager)
    assert carried.weight is not None and carried.weight.dtype == np.float32
    np.testing.assert_array_equal(carried.weight, weight[want])
    np.testing.assert_array_equal(rows.edge_indptr, np.r_[0, np.cumsum(np.bincount(dst[keep], minlength=n))])
    pairs_per_row = np.bincount(np.unique(dst[keep] * n + src[keep]) // n, minlength=n)
    np.testing.assert_array_equal(rows.indptr, np.r_[0, np.cumsum(pairs_per_row)])


def test_fresh_flags_on_candidate_rows_match_the_model():
    rng = np.random.default_rng(1)
    n = 50
    indptr = np.r_[0, np.cumsum(rng.integers(0, 16, n))]
    indices = rng.integers(0, n, indptr[-1]).astype(np.int32)
    weights = np.where(rng.random(indptr[-1]) < 0.2, 0.0, 1.0).astype(np.float32)
    cand = rng.random(n) < 0.6
    want = model.fresh_flags(cand, indptr, cand[indices], weights)
    np.testing.assert_array_equal(pairs.fresh_flags(cand, indptr, indices, weights), want)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_first_seen_against_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m, n = 400, 60
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    ts = rng.uniform(0, 1e9, m)
    ts[rng.random(m) < 0.3] = np.nan  # rows without a time
    got = pairs.first_seen(src, dst, ts, n + 5)  # accounts without a row stay inf
    np.testing.assert_array_equal(got, naive.first_seen(src, dst, ts, n + 5))
    assert np.isinf(got[n:]).all()
