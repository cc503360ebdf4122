"""Incremental update: fold a few new engagements into converged ranks without a full solve.

The converged ranks solve the linear system ``x = d * M^T x + beta * t`` (``M_uv = w_uv * c_u``, the
out-scaled pair weights; ``beta`` the teleport mass). New engagements change the pair weights of their
engagers only, so only the rows ``M_u`` of those engagers change, and the residual
``r = beta * t + d * M'^T x - x`` becomes non-zero only on their out-neighbours. A local push
(Gauss-Southwell) then settles it: take a node with ``|r_v| > eps``, move ``r_v`` into ``x_v`` and
spread ``d * M'_vw * r_v`` to its out-neighbours ``w``. Only the affected neighbourhood is visited.
Since ``||d M'^T||_1 <= d``, the remaining error is at most ``||r||_1 / (1 - d)`` (L1, on ranks that
sum to 1), reported as ``max_abs_error`` together with the original solve's residual. The ranks are
renormalised to sum to 1 at the end (the exact solution of the normalised problem is a scalar
multiple of the linear one).

The state keeps the base graph and overlays changed and new pairs; fresh-account flags and the
teleport vector are kept as they were in the full solve.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from core import model
from core.errors import InvalidEngagementsError, InvalidParametersError
from core.scoring import ScoreResult
from core.types import Engagements

__all__ = ["IncrementalState", "make_state", "update_scores"]


@dataclass
class IncrementalState:
    """Mutable state of the incremental scorer (see :func:`make_state`)."""

    n: int
    damping: float
    params_half_life: float
    pair_exponent: float
    selectivity_k: float
    type_weights: np.ndarray
    now: float
    ranks: np.ndarray  # unnormalised linear solution
    teleport: np.ndarray  # beta * t
    passing: np.ndarray  # out pass factor per node (fresh accounts < 1)
    scale: np.ndarray
    out_weight: np.ndarray
    # base out-adjacency: for every base pair, its engager-ordered position
    out_indptr: np.ndarray
    out_dst: np.ndarray
    out_count: np.ndarray  # current decayed weighted count of each base pair (engager order)
    residual_bound: float
    extra: dict[tuple[int, int], float] = field(default_factory=dict)  # pairs not in the base graph


def make_state(result: ScoreResult) -> IncrementalState:
    """Incremental state from a full :func:`core.scoring.score_population` result.

    Examples
    --------
    >>> from core.scoring import score_population
    >>> from core.types import Accounts
    >>> acc = Accounts.from_ids(["a", "b", "c"])
    >>> res = score_population(Engagements.from_arrays([0], [1], ts=0.0), acc)
    >>> make_state(res).n
    3
    """
    if not isinstance(result, ScoreResult) or result.graph is None:
        raise InvalidParametersError("result must be a ScoreResult from score_population")
    g = result.graph
    csr = g.csr
    p = result.params
    n = csr.n
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
    order = np.argsort(csr.indices, kind="stable")
    out_dst = row[order]
    out_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(csr.indices, minlength=n), out=out_indptr[1:])
    passing = model.passing_factors(g.fresh, p)
    beta = float(result.components[:, 0].sum() / (p.reach_weight * g.unit))
    return IncrementalState(
        n=n,
        damping=p.damping,
        params_half_life=p.half_life_days,
        pair_exponent=p.pair_exponent,
        selectivity_k=p.selectivity_k,
        type_weights=np.asarray(p.type_weights, dtype=np.float64),
        now=g.now,
        ranks=result.ranks.copy(),
        teleport=beta * g.teleport,
        passing=passing,
        scale=g.scale.copy(),
        out_weight=g.csr.out_weight.copy(),
        out_indptr=out_indptr,
        out_dst=out_dst,
        out_count=g.pair_count[order].copy(),
        residual_bound=result.residual / (1.0 - p.damping),
    )


@njit(cache=True)
def _push(
    x, r, out_indptr, out_dst, out_w, ex_indptr, ex_dst, ex_w, scale, damping, eps, queue, queued, touched
):  # pragma: no cover
    n = len(x)
    head = 0
    tail = 0
    size = 0
    for v in range(n):
        if abs(r[v]) > eps:
            queue[tail] = v
            tail = (tail + 1) % n
            size += 1
            queued[v] = True
    pushes = 0
    while size > 0:
        v = queue[head]
        head = (head + 1) % n
        size -= 1
        queued[v] = False
        rv = r[v]
        if abs(rv) <= eps:
            continue
        x[v] += rv
        r[v] = 0.0
        touched[v] = True
        pushes += 1
        c = damping * rv * scale[v]
        for j in range(out_indptr[v], out_indptr[v + 1]):
            w = out_dst[j]
            r[w] += c * out_w[j]
            if not queued[w] and abs(r[w]) > eps:
                queued[w] = True
                queue[tail] = w
                tail = (tail + 1) % n
                size += 1
        for j in range(ex_indptr[v], ex_indptr[v + 1]):
            w = ex_dst[j]
            r[w] += c * ex_w[j]
            if not queued[w] and abs(r[w]) > eps:
                queued[w] = True
                queue[tail] = w
                tail = (tail + 1) % n
                size += 1
    return pushes


def update_scores(
    state: IncrementalState, new_engagements: Engagements, eps: float = 1e-12
) -> tuple[np.ndarray, np.ndarray, float]:
    """Fold new engagements into the ranks with a local push on the affected neighbourhood.

    Parameters
    ----------
    state : IncrementalState
        From :func:`make_state`; updated in place.
    new_engagements : Engagements
        New rows (account indices of the same population; decayed at the state's ``now``).
    eps : float
        Push threshold per node (on ranks summing to 1).

    Returns
    -------
    ranks : ndarray
        Updated ranks, summing to 1 (comparable to ``ScoreResult.ranks``).
    touched : ndarray of int64
        Accounts whose rank was updated by a push (the rest only changed by the common normalisation).
    max_abs_error : float
        Bound on the L1 distance to the exact solution (remaining residual / (1 - d), plus the
        bound inherited from the full solve).

    Examples
    --------
    >>> from core.scoring import score_population
    >>> from core.types import Accounts
    >>> acc = Accounts.from_ids(["a", "b", "c"])
    >>> res = score_population(Engagements.from_arrays([0], [1], ts=0.0), acc, now=0.0)
    >>> st = make_state(res)
    >>> x, touched, err = update_scores(st, Engagements.from_arrays([2], [1], ts=0.0))
    >>> bool(x[1] > res.ranks[1]), err < 1e-5
    (True, True)
    """
    if not isinstance(state, IncrementalState):
        raise InvalidParametersError("state must come from make_state")
    if not isinstance(new_engagements, Engagements):
        raise InvalidEngagementsError("new_engagements must be an Engagements table")
    new_engagements.validate(state.n)
    if not eps > 0:
        raise InvalidParametersError("eps must be > 0")
    n = state.n
    d = state.damping
    e = new_engagements
    counts = (
        e.weight * state.type_weights[e.etype] * model.decay_factors(e.ts, state.now, state.params_half_life)
    )

    # old out-rows of the affected engagers, as dicts dst -> M_uv
    changed: dict[int, dict[int, float]] = {}
    for u, v, c in zip(e.src.tolist(), e.dst.tolist(), counts.tolist(), strict=True):
        if u == v:
            continue
        changed.setdefault(u, {})[v] = changed.get(u, {}).get(v, 0.0) + c
    x = state.ranks
    r = np.zeros(n)
    for u, adds in changed.items():
        lo, hi = int(state.out_indptr[u]), int(state.out_indptr[u + 1])
        dsts = state.out_dst[lo:hi]
        old_w = state.out_count[lo:hi] ** state.pair_exponent
        old_extra = {v: c for (uu, v), c in state.extra.items() if uu == u}
        old_scale = state.scale[u]
        # subtract the old row's flow
        np.add.at(r, dsts, -d * old_w * old_scale * x[u])
        for v, c in old_extra.items():
            r[v] -= d * c**state.pair_exponent * old_scale * x[u]
        # apply the new counts
        pos = {int(v): lo + k for k, v in enumerate(dsts.tolist())}
        for v, c in adds.items():
            if v in pos:
                state.out_count[pos[v]] += c
            else:
                state.extra[(u, v)] = state.extra.get((u, v), 0.0) + c
        new_w = state.out_count[lo:hi] ** state.pair_exponent
        new_extra = {v: c for (uu, v), c in state.extra.items() if uu == u}
        s = float(np.float32(new_w).astype(np.float64).sum()) + sum(
            c**state.pair_exponent for c in new_extra.values()
        )
        state.out_weight[u] = s
        new_scale = state.passing[u] / (s + state.selectivity_k) if s > 0 else 0.0
        state.scale[u] = new_scale
        np.add.at(r, dsts, d * new_w * new_scale * x[u])
        for v, c in new_extra.items():
            r[v] += d * c**state.pair_exponent * new_scale * x[u]

    ex_keys = sorted(state.extra)
    ex_src = np.array([k[0] for k in ex_keys], dtype=np.int64)
    ex_dst = np.array([k[1] for k in ex_keys], dtype=np.int64)
    ex_w = np.array([state.extra[k] ** state.pair_exponent for k in ex_keys], dtype=np.float64)
    ex_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ex_src, minlength=n), out=ex_indptr[1:])
    out_w = state.out_count**state.pair_exponent
    queue = np.empty(n, dtype=np.int64)
    queued = np.zeros(n, dtype=np.bool_)
    touched = np.zeros(n, dtype=np.bool_)
    _push(
        x,
        r,
        state.out_indptr,
        state.out_dst,
        out_w,
        ex_indptr,
        ex_dst,
        ex_w,
        state.scale,
        d,
        eps,
        queue,
        queued,
        touched,
    )
    remaining = float(np.abs(r).sum())
    total = float(x.sum())
    bound = state.residual_bound + remaining / (1.0 - d)
    state.residual_bound = bound
    return x / total, np.flatnonzero(touched), bound / total
