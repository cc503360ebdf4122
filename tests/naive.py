"""Slow, obviously correct pure-Python references of the core kernels (for tests only).

Everything here uses plain loops, dicts and Python floats (float64), following the definitions in
``docs/algorithm.md`` literally.
"""

from __future__ import annotations

import math

import numpy as np

from core.calibration import target_quantile
from core.types import ENGAGEMENT_TYPES

DAY = 86400.0


def build_csr(src, dst, weight, n):
    """Rows by destination, each row sorted by (source, float32 weight); out-weights summed per source."""
    rows: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    out = [0.0] * n
    for e in range(len(src)):
        w = 1.0 if weight is None else float(weight[e])
        rows[int(dst[e])].append((int(src[e]), w))
        out[int(src[e])] += w
    indptr = [0]
    indices: list[int] = []
    weights: list[float] = []
    for r in rows:
        for u, w in sorted(r, key=lambda e: (e[0], float(np.float32(e[1])))):
            indices.append(u)
            weights.append(w)
        indptr.append(len(indices))
    return indptr, indices, weights, out


def aggregate_pairs(src, dst, values, n):
    """Dict of (dst, src) -> list of summed columns, as sorted rows."""
    acc: dict[tuple[int, int], list[float]] = {}
    for e in range(len(src)):
        key = (int(dst[e]), int(src[e]))
        row = acc.setdefault(key, [0.0] * values.shape[1])
        for k in range(values.shape[1]):
            row[k] += float(values[e, k])
    keys = sorted(acc)
    indptr = [0] * (n + 1)
    for v, _ in keys:
        indptr[v + 1] += 1
    for v in range(n):
        indptr[v + 1] += indptr[v]
    return indptr, [u for _, u in keys], [acc[k] for k in keys]


def rank(n, edges, teleport=None, scale=None, damping=0.85, tol=1e-12, max_iter=10_000):
    """Power iteration of x' = d * A^T (c * x) + (1 - sum) * t on an edge list [(u, v, w)]."""
    out = [0.0] * n
    for u, _, w in edges:
        out[u] += w
    if scale is None:
        scale = [1.0 / o if o > 0 else 0.0 for o in out]
    if teleport is None:
        teleport = [1.0] * n
    tsum = sum(teleport)
    t = [v / tsum for v in teleport]
    x = list(t)
    for _ in range(max_iter):
        f = [0.0] * n
        for u, v, w in edges:
            f[v] += damping * w * scale[u] * x[u]
        beta = 1.0 - sum(f)
        new = [f[v] + beta * t[v] for v in range(n)]
        res = sum(abs(a - b) for a, b in zip(new, x, strict=True))
        x = new
        if res < tol:
            break
    return x


def score_raw(engagements, accounts, params, now):
    """Raw influence per account, and its three components, straight from the definitions."""
    n = len(accounts.ids)
    amp_types = {ENGAGEMENT_TYPES.index(t) for t in params.amplification_types}
    pair: dict[tuple[int, int], list[float]] = {}
    for e in range(len(engagements.src)):
        u, v = int(engagements.src[e]), int(engagements.dst[e])
        if u == v:
            continue
        ts = float(engagements.ts[e])
        age = 0.0 if math.isnan(ts) else max(0.0, now - ts) / DAY
        et = int(engagements.etype[e])
        c = float(engagements.weight[e]) * params.type_weights[et] * 2.0 ** (-age / params.half_life_days)
        p = pair.setdefault((u, v), [0.0, 0.0])
        p[0] += c
        if et in amp_types:
            p[1] += c
    w = {k: float(np.float32(c[0] ** params.pair_exponent)) for k, c in pair.items()}
    frac = {k: (c[1] / c[0] if c[0] > 0 else 0.0) for k, c in pair.items()}
    s = [0.0] * n
    for (u, _), wt in w.items():
        s[u] += wt
    cand = []
    for i in range(n):
        cr = float(accounts.created[i])
        cand.append(
            (not math.isnan(cr))
            and now - cr < params.fresh_days * DAY
            and float(accounts.followers[i]) <= params.fresh_max_followers
        )
    est_in = [False] * n
    for (u, v), wt in w.items():
        if not cand[u] and wt > 0:
            est_in[v] = True
    fresh = [cand[i] and not est_in[i] for i in range(n)]
    scale = [
        ((params.fresh_out_factor if fresh[i] else 1.0) / (s[i] + params.selectivity_k) if s[i] > 0 else 0.0)
        for i in range(n)
    ]
    tele = [
        (math.log1p(float(accounts.followers[i])) + params.teleport_eps)
        * (params.fresh_teleport_factor if fresh[i] else 1.0)
        for i in range(n)
    ]
    tsum = sum(tele)
    tele = [t / tsum for t in tele]
    edges = [(u, v, wt) for (u, v), wt in w.items()]
    x = rank(n, edges, tele, scale, params.damping)
    inflow = [0.0] * n
    inflow_amp = [0.0] * n
    for (u, v), wt in w.items():
        f = params.damping * wt * scale[u] * x[u]
        inflow[v] += f
        inflow_amp[v] += f * frac[(u, v)]
    beta = 1.0 - sum(inflow)
    unit = max(1, n - sum(fresh))
    comps = []
    for i in range(n):
        posts = float(accounts.posts[i])
        vol = 1.0
        if posts > 0:
            vol = max(1.0, ((1 + posts) / (1 + params.volume_ref_posts)) ** params.volume_alpha)
        comps.append(
            (
                params.reach_weight * unit * beta * tele[i],
                unit * inflow_amp[i] / vol,
                unit * max(inflow[i] - inflow_amp[i], 0.0),
            )
        )
    return [sum(c) for c in comps], comps, x


def calibrate(raw, target_mean=40.0, target_p95=63.0, samples=2000):
    """Score of each raw value: mean target quantile over its tie block of percentiles (midpoint rule)."""
    n = len(raw)
    order = sorted(raw)
    out = []
    for r in raw:
        below = sum(1 for v in order if v < r)
        equal = sum(1 for v in order if v == r)
        lo, hi = below / n, (below + equal) / n
        pts = [lo + (hi - lo) * (k + 0.5) / samples for k in range(samples)]
        out.append(float(np.mean(target_quantile(np.array(pts), target_mean, target_p95))))
    return out


def row_chunks(indptr, n_chunks):
    """Chunk bounds: chunk k ends after the first row whose rows + edges so far reach k/n_chunks of all."""
    n = len(indptr) - 1
    n_chunks = max(1, min(int(n_chunks), n))
    total = int(indptr[-1]) + n
    bounds = [0]
    for k in range(1, n_chunks):
        target = (k * total) // n_chunks
        row = next((i for i in range(n) if int(indptr[i + 1]) + i + 1 >= target), n)
        bounds.append(max(bounds[-1], min(row + 1, n)))
    bounds.append(max(bounds[-1], n))
    return bounds


def pull(indptr, indices, weights, y, damping):
    """``f_v = damping * sum_j w_j * y_u`` per row: float32 products (as the kernel), float64 sums."""
    out = []
    for v in range(len(indptr) - 1):
        s = 0.0
        for j in range(int(indptr[v]), int(indptr[v + 1])):
            s += float(np.float32(weights[j]) * np.float32(y[int(indices[j])]))
        out.append(damping * s)
    return out


def inflows(indptr, indices, weights, amp_frac, a, b, damping):
    """Per row: ``sum_j damping * w_j * a_u * b_u`` and the same times ``amp_frac_j``."""
    inflow, inflow_amp = [], []
    for v in range(len(indptr) - 1):
        s = t = 0.0
        for j in range(int(indptr[v]), int(indptr[v + 1])):
            u = int(indices[j])
            f = damping * float(weights[j]) * float(a[u]) * float(b[u])
            s += f
            t += f * float(amp_frac[j])
        inflow.append(s)
        inflow_amp.append(t)
    return inflow, inflow_amp


def fixed2_lines(texts, columns):
    """``text,f"{x:.2f}",...`` lines (``renown.fixed_csv.fixed2_lines``), as bytes."""
    out = []
    for i, text in enumerate(texts):
        out.append(",".join([text] + [f"{float(col[i]):.2f}" for col in columns]) + "\n")
    return "".join(out).encode()


def digit_lines(text, sep):
    """``source target weight`` lines of digits (``core.digit_lines.parse_digit_lines``): the three
    columns as lists, or ``None`` when a line has another layout.
    """
    if not text:
        return [], [], []
    lines = text.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the last line end
    src, dst, w = [], [], []
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        f = line.split(bytes([sep]))
        if len(f) != 3 or not all(t and t.isdigit() and t.isascii() and len(t) <= 18 for t in f):
            return None
        if int(f[2]) > 10**15:
            return None
        src.append(int(f[0]))
        dst.append(int(f[1]))
        w.append(float(int(f[2])))
    return src, dst, w


def first_seen(src, dst, ts, n):
    """Earliest engagement time (given or received) of each account; ``inf`` where none has one."""
    out = np.full(n, np.inf)
    for s, d, t in zip(src, dst, ts, strict=True):
        if np.isfinite(t):
            out[s] = min(out[s], t)
            out[d] = min(out[d], t)
    return out
