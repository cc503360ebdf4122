"""``renown bench``: Renown's solver against scipy, python-graphblas, igraph and networkx.

(Over 500 lines: one adapter per library, each a build and a solve measured the same way, so they sit
side by side.)

Generates reproducible power-law engagement graphs (100k/2M, 1M/20M, 4M/80M nodes/edges) and loads
the real Higgs mention graph, then for each graph and solver measures, in this one process:
graph build time (edge arrays -> the solver's matrix), solve time, passes, peak memory above the
edge arrays, and the agreement of the ranking with Renown's (Spearman, top-100 overlap, L1).
Same model everywhere: weighted PageRank, damping 0.85, uniform teleport, dangling mass
redistributed uniformly, stop at L1 change < 1e-6 (igraph's PRPACK uses its own internal tolerance).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from renown.commands.bench_versions import bench_versions, print_versions_summary

DAMPING = 0.85
TOL = 1e-6
MAX_ITER = 200
SIZES = {"100k": (100_000, 2_000_000), "1m": (1_000_000, 20_000_000), "4m": (4_000_000, 80_000_000)}
HIGGS = (
    Path(__file__).resolve().parents[3] / "shared" / "datasets" / "higgs-twitter" / "mention_network.edgelist"
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="solver benchmarks against scipy, graphblas, igraph and networkx",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("--sizes", default="100k,1m,4m", help="comma list of 100k, 1m, 4m (default: all three)")
    p.add_argument("--quick", action="store_true", help="100k and Higgs only, renown and scipy only")
    p.add_argument("--solvers", default="renown,scipy,graphblas,igraph,networkx", help="comma list")
    p.add_argument("--no-higgs", action="store_true", help="skip the real Higgs graph")
    p.add_argument("--higgs", default=str(HIGGS), help="path of the Higgs mention edge list")
    p.add_argument("--igraph-max-edges", type=int, default=20_000_000, help="skip igraph above (20M)")
    p.add_argument("--networkx-max-edges", type=int, default=2_000_000, help="skip networkx above (2M)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--timeout", type=float, default=1800.0, help="per solver run, seconds")
    p.add_argument("--no-e2e", action="store_true", help="skip the end-to-end 'renown score' runs")
    p.add_argument(
        "--versions",
        default="v1,v3",
        help="versions whose full scoring pass is timed side by side on each size (default v1,v3; '' skips)",
    )
    p.add_argument("--e2e-formats", default="text,parquet", help="edge file formats of the end-to-end runs")
    p.add_argument(
        "--e2e-no-bytecode",
        action="store_true",
        help="end-to-end runs as the environment says even when it writes no bytecode "
        "(PYTHONDONTWRITEBYTECODE): every module compiled from source in every process",
    )
    p.add_argument(
        "--no-first-run",
        action="store_true",
        help="skip the first-run rows (renown score with an empty numba cache, then after renown warm)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per solver, alternating the solvers; the summary keeps each one's fastest (default 1)",
    )
    return p


# --------------------------------------------------------------------------------------------------
# graphs


def power_law_graph(n: int, m: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reproducible engagement graph: power-law in- and out-degrees, random labels, small int weights."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n).astype(np.int64)
    # popularity ranks u**a: density ~ x**(1/a - 1), a heavy head of popular authors / active engagers
    dst = perm[(n * rng.random(m) ** 2.5).astype(np.int64)]
    src = perm[(n * rng.random(m) ** 1.6).astype(np.int64)]
    weight = rng.geometric(0.6, size=m).clip(max=20).astype(np.float64)
    return src, dst, weight


def higgs_graph(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    from core.io import read_edge_files

    eng, acc = read_edge_files([path])
    return eng.src, eng.dst, eng.weight, acc.n_accounts


# --------------------------------------------------------------------------------------------------
# memory


class Peak:
    """Peak resident memory of a block, from Linux's VmHWM (reset through /proc/self/clear_refs)."""

    def __init__(self) -> None:
        self.base = 0.0
        self.peak = 0.0

    @staticmethod
    def _status(field: str) -> float:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return float(line.split()[1]) / 1024.0
        return 0.0

    def __enter__(self) -> Peak:
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            pass
        self.base = self._status("VmRSS:")
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak = max(0.0, self._status("VmHWM:") - self.base)


# --------------------------------------------------------------------------------------------------
# solvers: build(src, dst, w, n) -> handle; solve(handle, n) -> (ranks, iterations)


def renown_build(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> Any:
    from core.graph import build_csr

    return build_csr(src, dst, w, n)


def renown_solve(g: Any, n: int) -> tuple[np.ndarray, int]:
    from core.rank import influence_rank

    x, it, _ = influence_rank(g, None, DAMPING, TOL, MAX_ITER)
    return x, it


def scipy_build(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> Any:
    import scipy.sparse as sp

    out = np.bincount(src, weights=w, minlength=n)
    inv = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    return sp.csr_matrix((w * inv[src], (dst, src)), shape=(n, n))


def scipy_solve(p: Any, n: int) -> tuple[np.ndarray, int]:
    x = np.full(n, 1.0 / n)
    it = 0
    while it < MAX_ITER:
        f = p @ x
        f *= DAMPING
        f += (1.0 - f.sum()) / n
        res = np.abs(f - x).sum()
        x = f
        it += 1
        if res < TOL:
            break
    return x, it


def graphblas_build(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> Any:
    import graphblas as gb

    out = np.bincount(src, weights=w, minlength=n)
    inv = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    return gb.Matrix.from_coo(dst, src, w * inv[src], nrows=n, ncols=n, dup_op=gb.binary.plus)


def graphblas_solve(p: Any, n: int) -> tuple[np.ndarray, int]:
    import graphblas as gb

    x = gb.Vector.from_dense(np.full(n, 1.0 / n))
    it = 0
    while it < MAX_ITER:
        f = p.mxv(x, gb.semiring.plus_times).new()
        f *= DAMPING
        c = (1.0 - f.reduce(gb.monoid.plus).new().value) / n
        xn = gb.Vector.from_scalar(c, n, dtype=gb.dtypes.FP64)
        xn(gb.binary.plus) << f
        res = gb.binary.minus(xn | x).new().apply(gb.unary.abs).reduce(gb.monoid.plus).new().value
        x = xn
        it += 1
        if res < TOL:
            break
    return x.to_dense(fill_value=0.0), it


def igraph_build(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> Any:
    import igraph as ig

    g = ig.Graph(n=n, edges=np.column_stack([src, dst]), directed=True)
    g.es["weight"] = w
    return g


def igraph_solve(g: Any, n: int) -> tuple[np.ndarray, int]:
    x = np.asarray(g.pagerank(damping=DAMPING, weights="weight", implementation="prpack"))
    return x / x.sum(), -1


def networkx_build(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> Any:
    import networkx as nx
    import scipy.sparse as sp

    a = sp.coo_matrix((w, (src, dst)), shape=(n, n)).tocsr().tocoo()  # sum duplicate pairs
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(a.row.tolist(), a.col.tolist(), a.data.tolist(), strict=True))
    return g


def networkx_solve(g: Any, n: int) -> tuple[np.ndarray, int]:
    import networkx as nx

    pr = nx.pagerank(g, alpha=DAMPING, tol=TOL / n, max_iter=MAX_ITER, weight="weight")
    return np.array([pr[i] for i in range(n)]), -1


SOLVERS: dict[str, tuple[Callable[..., Any], Callable[..., tuple[np.ndarray, int]]]] = {
    "renown": (renown_build, renown_solve),
    "scipy": (scipy_build, scipy_solve),
    "graphblas": (graphblas_build, graphblas_solve),
    "igraph": (igraph_build, igraph_solve),
    "networkx": (networkx_build, networkx_solve),
}


# --------------------------------------------------------------------------------------------------
# agreement


def _ranks_of(x: np.ndarray) -> np.ndarray:
    r = np.empty(len(x))
    r[np.argsort(x, kind="stable")] = np.arange(len(x))
    return r


def agreement(x: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    rx, rr = _ranks_of(x), _ranks_of(ref)
    spearman = float(np.corrcoef(rx, rr)[0, 1])
    k = min(100, len(x))
    top = len(set(np.argsort(-x)[:k].tolist()) & set(np.argsort(-ref)[:k].tolist())) / k
    return {"spearman": spearman, "top100": top, "l1": float(np.abs(x - ref).sum())}


# --------------------------------------------------------------------------------------------------


def _warm_up() -> None:
    """Load (or compile) every kernel the timed build and solve will call, the parallel ones included.

    The solve of a graph over ``PARALLEL_MIN_EDGES`` edges runs the parallel kernels; a tiny warm-up
    graph alone would only load the serial ones, and the first timed solve would then pay for loading
    the parallel kernels from the cache (and for starting numba's thread pool).
    """
    import core.rank
    from core.graph import build_csr
    from core.rank import influence_rank

    saved = core.rank.PARALLEL_MIN_EDGES
    try:
        for threshold in (0, saved):
            core.rank.PARALLEL_MIN_EDGES = threshold
            for w in (np.ones(3), np.array([0.5, 1.0, 2.0])):
                g = build_csr(np.array([0, 1, 2]), np.array([1, 2, 0]), w, 3)
                for method in ("gauss-seidel", "jacobi"):
                    influence_rank(g, method=method)
    finally:
        core.rank.PARALLEL_MIN_EDGES = saved


def _measure(sname: str, folder: str, n: int, q: Any) -> None:
    """Child process: load the edge arrays, build and solve with one solver, report the figures."""
    try:
        src = np.load(os.path.join(folder, "src.npy"))
        dst = np.load(os.path.join(folder, "dst.npy"))
        w = np.load(os.path.join(folder, "w.npy"))
        if sname == "renown":
            _warm_up()
        build, solve = SOLVERS[sname]
        with Peak() as pb:
            c0 = time.process_time()
            t0 = time.perf_counter()
            handle = build(src, dst, w, n)
            t1 = time.perf_counter()
            c1 = time.process_time()
        with Peak() as ps:
            t2 = time.perf_counter()
            x, it = solve(handle, n)
            t3 = time.perf_counter()
            c2 = time.process_time()
        np.save(os.path.join(folder, f"x-{sname}.npy"), x)
        q.put(
            {
                "build_s": t1 - t0,
                "solve_s": t3 - t2,
                "build_cpu_s": c1 - c0,
                "solve_cpu_s": c2 - c1,
                "load": os.getloadavg()[0],
                "iterations": it,
                "build_peak_mb": pb.peak,
                "solve_peak_mb": ps.peak + _size_mb(handle),
            }
        )
    except ImportError as exc:
        q.put({"error": f"not installed ({exc})"})
    except Exception as exc:  # report and carry on with the other solvers
        q.put({"error": f"{type(exc).__name__}: {exc}"})


def bench_graph(
    name: str,
    src: np.ndarray,
    dst: np.ndarray,
    w: np.ndarray,
    n: int,
    solvers: list[str],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    """Each solver runs in a fresh process (no shared thread pools, clean peak-memory readings)."""
    import multiprocessing as mp
    import tempfile

    m = len(src)
    edge_mb = (src.nbytes + dst.nbytes + w.nbytes) / 2**20
    print(f"\n== {name}: {n:,} nodes, {m:,} edges (edge arrays {edge_mb:,.0f} MB) ==", flush=True)
    rows: list[dict[str, Any]] = []
    ref: np.ndarray | None = None
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="renown-bench-") as folder:
        np.save(os.path.join(folder, "src.npy"), src)
        np.save(os.path.join(folder, "dst.npy"), dst)
        np.save(os.path.join(folder, "w.npy"), w)
        best: dict[str, dict[str, Any]] = {}
        for _rep in range(max(1, args.repeat)):
            for sname in solvers:
                if sname == "igraph" and m > args.igraph_max_edges:
                    continue
                if sname == "networkx" and m > args.networkx_max_edges:
                    continue
                q = ctx.Queue()
                proc = ctx.Process(target=_measure, args=(sname, folder, n, q))
                proc.start()
                try:
                    out = q.get(timeout=args.timeout)
                except Exception:
                    out = {"error": f"no result within {args.timeout}s"}
                    proc.kill()
                proc.join()
                if "error" in out:
                    print(f"  {sname:10s} {out['error']}", flush=True)
                    continue
                x = np.load(os.path.join(folder, f"x-{sname}.npy"))
                row: dict[str, Any] = {"graph": name, "nodes": n, "edges": m, "solver": sname}
                row["edge_mb"] = edge_mb
                row.update(out)
                if ref is None:
                    ref = x
                row.update(agreement(x, ref))
                print(
                    f"  {sname:10s} build {row['build_s']:7.2f}s (cpu {row['build_cpu_s']:6.2f})  "
                    f"solve {row['solve_s']:7.2f}s (cpu {row['solve_cpu_s']:6.2f})  "
                    f"iters {row['iterations']:4d}  peak build {row['build_peak_mb']:7.0f} MB  "
                    f"solve {row['solve_peak_mb']:7.0f} MB  spearman {row['spearman']:.4f}  "
                    f"top100 {row['top100']:.2f}  L1 {row['l1']:.1e}  load {row['load']:.1f}",
                    flush=True,
                )
                prev = best.get(sname)
                if prev is None:
                    best[sname] = row
                else:  # keep the fastest build and solve over the repeats
                    for key in ("build_s", "build_cpu_s", "solve_s", "solve_cpu_s"):
                        prev[key] = min(prev[key], row[key])
                    prev["load"] = max(prev["load"], row["load"])
        rows += list(best.values())
    return rows


def _size_mb(handle: Any) -> float:
    """Resident size of the solver's matrix (held during the solve)."""
    nbytes = getattr(handle, "nbytes", None)
    if isinstance(nbytes, int | np.integer):
        return float(nbytes) / 2**20
    data = getattr(handle, "data", None)
    if isinstance(data, np.ndarray):  # scipy CSR
        return float(data.nbytes + handle.indices.nbytes + handle.indptr.nbytes) / 2**20
    if hasattr(handle, "_nvals"):  # graphblas: values float64 + int64 column indices + row pointers
        return float(handle.nvals * 16 + handle.nrows * 8) / 2**20
    return 0.0


# --------------------------------------------------------------------------------------------------
# end to end: `renown score` on generated edge files


def write_edge_file(path: str, src: np.ndarray, dst: np.ndarray, w: np.ndarray) -> None:
    """``source target weight`` lines (text) or a Parquet file, by the file name."""
    import pyarrow as pa

    table = pa.table({"source": src, "target": dst, "weight": w.astype(np.int64)})
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(
            table, path, pcsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none")
        )


def score_end_to_end(name: str, path: str, edge_mb: float, args: argparse.Namespace) -> dict[str, Any] | None:
    """One `renown score FILE --out scores.csv --stats` in a fresh process: its stage times and peak RSS."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="renown-e2e-") as folder:
        out = os.path.join(folder, "scores.csv")
        cmd = [sys.executable, "-m", "renown.cli", "score", path, "--out", out, "--stats", "--quiet"]
        t0 = time.perf_counter()
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=args.timeout, check=False, env=_e2e_env(args)
        )
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"  renown score {name}: rc {proc.returncode}: {proc.stderr.strip()[-500:]}", flush=True)
        return None
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    row = {"graph": name, "wall_s": wall, "edge_mb": edge_mb, "load": os.getloadavg()[0], **stats}
    row["size_mb"] = os.path.getsize(path) / 2**20
    print(
        f"  renown score {name:22s} load {row['load_s']:6.2f}s  build {row['build_s']:6.2f}s  "
        f"solve {row['solve_s']:6.2f}s  calibrate {row['calibrate_s']:5.2f}s  write {row['write_s']:5.2f}s  "
        f"total {row['total_s']:6.2f}s (process {wall:6.2f}s)  parse {row['load_edges_per_s'] / 1e6:5.1f}M "
        f"edges/s  peak RSS {row['peak_rss_mb']:7.0f} MB ({row['peak_rss_mb'] / edge_mb:.1f}x the edge "
        f"arrays)  load avg {row['load']:.1f}",
        flush=True,
    )
    return row


def _e2e_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment of the end-to-end runs: with a bytecode cache (``args.pyc_prefix``) when this
    environment writes no bytecode, as an installed package has its ``.pyc`` files.
    """
    env = dict(os.environ)
    prefix = getattr(args, "pyc_prefix", None)
    if prefix:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = prefix
    return env


def prepare_bytecode(args: argparse.Namespace, folder: str) -> None:
    """When this environment writes no bytecode (``PYTHONDONTWRITEBYTECODE``), give the end-to-end
    runs a bytecode cache under ``folder`` and fill it with one small untimed ``renown score`` per
    format: otherwise every run compiles numba's, scipy's and pyarrow's modules from source (about
    3 s of a 1M/20M run here), which an installed package does not.
    """
    import subprocess

    if args.e2e_no_bytecode or not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    args.pyc_prefix = os.path.join(folder, "pyc")
    src, dst, w = power_law_graph(1000, 20_000, args.seed)
    for name in ("warm.txt", "warm.parquet"):
        path = os.path.join(folder, name)
        write_edge_file(path, src, dst, w)
        cmd = [sys.executable, "-m", "renown.cli", "score", path, "--out", path + ".csv", "--quiet"]
        subprocess.run(cmd, capture_output=True, timeout=args.timeout, check=False, env=_e2e_env(args))
    print(
        "\n(end-to-end runs with a bytecode cache, PYTHONPYCACHEPREFIX: this environment sets "
        "PYTHONDONTWRITEBYTECODE; --e2e-no-bytecode runs without)",
        flush=True,
    )


def bench_end_to_end(
    size: str, src: np.ndarray, dst: np.ndarray, w: np.ndarray, args: argparse.Namespace
) -> list[dict[str, Any]]:
    import tempfile

    formats = [f.strip() for f in args.e2e_formats.split(",") if f.strip()]
    edge_mb = (src.nbytes + dst.nbytes + w.nbytes) / 2**20
    rows = []
    with tempfile.TemporaryDirectory(prefix="renown-edges-") as folder:
        for fmt in formats:
            path = os.path.join(folder, "edges.parquet" if fmt == "parquet" else "edges.txt")
            t0 = time.perf_counter()
            write_edge_file(path, src, dst, w)
            print(f"\n(wrote the {size} edge list as {fmt} in {time.perf_counter() - t0:.1f}s)", flush=True)
            row = score_end_to_end(f"powerlaw-{size} {fmt}", path, edge_mb, args)
            os.unlink(path)
            if row is not None:
                rows.append(row)
    return rows


def _timed_command(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[float, int, str]:
    import subprocess

    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    return time.perf_counter() - t0, proc.returncode, proc.stderr.strip()[-300:]


def bench_first_run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The first `renown score` of a fresh clone: with an empty numba cache (every kernel compiled),
    after `renown warm` (what `make install` runs) into an empty cache, and once more (steady state).

    Each in a fresh process on the 100k/2M text edge list; a fresh ``NUMBA_CACHE_DIR`` stands for the
    clone's empty cache.
    """
    import tempfile

    n, m = SIZES["100k"]
    src, dst, w = power_law_graph(n, m, args.seed)
    rows: list[dict[str, Any]] = []
    print(
        "\n== first run of renown score in a fresh clone (100k/2M text; fresh NUMBA_CACHE_DIR) ==", flush=True
    )
    with tempfile.TemporaryDirectory(prefix="renown-first-") as folder:
        path = os.path.join(folder, "edges.txt")
        write_edge_file(path, src, dst, w)
        score = [
            sys.executable,
            "-m",
            "renown.cli",
            "score",
            path,
            "--out",
            os.path.join(folder, "s.csv"),
            "--quiet",
        ]
        warm = [sys.executable, "-m", "renown.cli", "warm", "--quiet"]
        steps = [
            ("empty cache", "cold", [score]),
            ("renown warm (make install)", "warmed", [warm]),
            ("first run after renown warm", "warmed", [score]),
            ("second run", "warmed", [score]),
        ]
        for label, cache, cmds in steps:
            env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(folder, cache))
            for cmd in cmds:
                wall, rc, err = _timed_command(cmd, env, args.timeout)
                if rc != 0:
                    print(f"  {label}: rc {rc}: {err}", flush=True)
                    continue
                row = {"graph": "first-run", "step": label, "wall_s": wall, "load": os.getloadavg()[0]}
                rows.append(row)
                print(f"  {label:30s} {wall:7.2f}s  load avg {row['load']:.1f}", flush=True)
    return rows


def print_e2e_summary(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print(
        "\n== renown score end to end (fresh process: read, build, solve, calibrate, write CSV; "
        f"load average 1 min: {os.getloadavg()[0]:.1f}) =="
    )
    print(
        f"{'graph':>24} {'load s':>7} {'build s':>7} {'solve s':>7} {'calib s':>7} {'write s':>7} "
        f"{'total s':>7} {'Medges/s':>8} {'peak MB':>8} {'x edges':>7}"
    )
    for r in rows:
        print(
            f"{r['graph']:>24} {r['load_s']:7.2f} {r['build_s']:7.2f} {r['solve_s']:7.2f} "
            f"{r['calibrate_s']:7.2f} {r['write_s']:7.2f} {r['total_s']:7.2f} "
            f"{r['load_edges_per_s'] / 1e6:8.1f} {r['peak_rss_mb']:8.0f} "
            f"{r['peak_rss_mb'] / r['edge_mb']:7.1f}"
        )


def print_summary(rows: list[dict[str, Any]]) -> None:
    print(
        "\n== summary (best of the repeats; ratios: peer time / Renown time; >1 means Renown is faster; "
        f"load average 1 min: {os.getloadavg()[0]:.1f}) =="
    )
    head = (
        f"{'graph':>14} {'solver':>10} {'build s':>8} {'solve s':>8} {'cpu s':>6} {'iters':>5} "
        f"{'solve MB':>9} {'build x':>8} {'solve x':>8} {'spearman':>8} {'top100':>6}"
    )
    print(head)
    by_graph: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_graph.setdefault(r["graph"], {})[r["solver"]] = r
    for g, solvers in by_graph.items():
        base = solvers.get("renown")
        for s, r in solvers.items():
            bx = r["build_s"] / base["build_s"] if base else float("nan")
            sx = r["solve_s"] / base["solve_s"] if base else float("nan")
            print(
                f"{g:>14} {s:>10} {r['build_s']:8.2f} {r['solve_s']:8.2f} {r.get('solve_cpu_s', 0.0):6.2f} "
                f"{r['iterations']:5d} "
                f"{r['solve_peak_mb']:9.0f} {bx:8.2f} {sx:8.2f} {r['spearman']:8.4f} {r['top100']:6.2f}"
            )
        if base:
            print(
                f"{'':>14} renown solve peak (matrix + work) / edge arrays = "
                f"{base['solve_peak_mb'] / base['edge_mb']:.2f}x; build peak / edge arrays = "
                f"{base['build_peak_mb'] / base['edge_mb']:.2f}x"
            )


def run(args: argparse.Namespace) -> int:
    import tempfile

    import numba

    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    unknown = [s for s in solvers if s not in SOLVERS]
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    bad = [s for s in sizes if s not in SIZES]
    if unknown or bad:
        print(f"renown bench: error: unknown solver(s) {unknown} or size(s) {bad}", file=sys.stderr)
        return 2
    if args.quick:
        sizes = ["100k"]
        solvers = [s for s in solvers if s in ("renown", "scipy")]
    if "renown" in solvers:
        solvers.remove("renown")
    solvers.insert(0, "renown")
    print(
        f"renown bench: numba {numba.__version__}, {numba.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs; damping {DAMPING}, L1 tol {TOL}",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    e2e: list[dict[str, Any]] = []
    by_version: list[dict[str, Any]] = []
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    with tempfile.TemporaryDirectory(prefix="renown-pyc-") as pyc:
        if not args.no_e2e:
            prepare_bytecode(args, pyc)
        _run_graphs(args, sizes, solvers, versions, rows, e2e, by_version)
    first = [] if args.no_first_run or args.no_e2e else bench_first_run(args)
    print_summary(rows)
    print_e2e_summary(e2e)
    print_versions_summary(by_version)
    if first:
        print(
            f"\n== first run of renown score, 100k/2M text (load average 1 min: {os.getloadavg()[0]:.1f}) =="
        )
        for r in first:
            print(f"{r['step']:>32} {r['wall_s']:7.2f}s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows + e2e + by_version + first, fh, indent=1)
    return 0


def _run_graphs(
    args: argparse.Namespace,
    sizes: list[str],
    solvers: list[str],
    versions: list[str],
    rows: list[dict[str, Any]],
    e2e: list[dict[str, Any]],
    by_version: list[dict[str, Any]],
) -> None:
    """Every graph's solver rows, end-to-end rows and version rows, appended to the lists given."""
    if not args.no_higgs and Path(args.higgs).exists():
        src, dst, w, n = higgs_graph(args.higgs)
        rows += bench_graph("higgs-mention", src, dst, w, n, solvers, args)
        del src, dst, w
    for size in sizes:
        n, m = SIZES[size]
        t0 = time.perf_counter()
        src, dst, w = power_law_graph(n, m, args.seed)
        print(f"\n(generated {size} in {time.perf_counter() - t0:.1f}s)", flush=True)
        rows += bench_graph(f"powerlaw-{size}", src, dst, w, n, solvers, args)
        if not args.no_e2e:
            e2e += bench_end_to_end(size, src, dst, w, args)
        del src, dst, w
        gc.collect()
        if versions:
            by_version += bench_versions(size, n, m, versions, args.repeat, args.seed)
