"""``renown warm``: fill numba's cache with every kernel ``renown score`` runs (``make install`` does).

numba compiles a kernel on its first call and keeps the machine code in its cache (``__pycache__``
beside the source, or ``NUMBA_CACHE_DIR``). Without this step the first ``renown score`` after an
install compiles some forty kernels: tens of seconds. Here ``renown score`` runs in this process on a
few small generated edge files (text with numeric and with named accounts, sparse numeric ids, typed
and timed lines, Parquet, Arrow IPC; CSV, Parquet and IPC output), with the compact table's dtypes,
every built-in version, and the solver's serial and parallel kernels (``core.rank.PARALLEL_MIN_EDGES``
lowered for one round). A second run finds everything in the cache and takes about a second.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "warm",
        help="compile the scoring kernels into numba's cache (make install runs it)",
        description="Run `renown score` on small generated inputs so that every kernel it calls is "
        "compiled into numba's cache: the first real run then loads them instead of compiling.",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    return p


def _inputs(folder: str) -> list[tuple[list[str], list[str]]]:
    """Small edge files covering the reader's paths: (files, extra ``renown score`` options)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    n, m = 300, 4000
    src = rng.integers(0, n, m)
    dst = (src + 1 + rng.integers(0, n - 1, m)) % n
    w = rng.integers(1, 6, m)
    ts = 1_700_000_000 - rng.integers(0, 90 * 86_400, m)
    types = ["like", "share", "reply", "mention"]

    def text(name: str, lines: list[str]) -> str:
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        return path

    plain = text("plain.txt", [f"{a} {b} {c}" for a, b, c in zip(src, dst, w, strict=True)])
    sparse = text("sparse.txt", [f"{a * 10**15 + 7} {b} {c}" for a, b, c in zip(src, dst, w, strict=True)])
    named = text(
        "named.txt",
        [
            f"user{a} mastodon:u{b} {c / 2} {types[c % 4]} {t}"
            for a, b, c, t in zip(src, dst, w, ts, strict=True)
        ],
    )
    table = pa.table({"source": src, "target": dst, "weight": w.astype(np.float64), "ts": ts.astype(float)})
    parquet = os.path.join(folder, "edges.parquet")
    pq.write_table(table, parquet)
    ipc = os.path.join(folder, "edges.feather")
    feather.write_feather(table.select(["source", "target", "weight"]), ipc)
    return [
        ([plain], ["--out", os.path.join(folder, "a.csv")]),
        ([sparse], []),
        ([named], ["--out", os.path.join(folder, "b.parquet")]),
        ([parquet], ["--out", os.path.join(folder, "c.feather")]),
        ([ipc, plain], []),
    ]


def _score(argv: list[str]) -> None:
    from renown.commands import score

    parser = argparse.ArgumentParser()
    score.add_parser(parser.add_subparsers())
    args = parser.parse_args(["score", *argv, "--quiet"])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        rc = score.run(args)
    if rc != 0:
        raise RuntimeError(f"renown score {' '.join(argv)}: rc {rc}: {err.getvalue().strip()}")


def _kernels() -> list[Any]:
    from numba.core.registry import CPUDispatcher

    found = []
    for name, module in list(sys.modules.items()):
        if name == "core" or name.startswith(("core.", "renown.")):
            found += [v for v in vars(module).values() if isinstance(v, CPUDispatcher)]
    return found


def warm() -> dict[str, int]:
    """Run ``renown score``'s kernels once each; return how many signatures were compiled now and how
    many were loaded from the cache."""
    import core.rank
    from core.versions import list_versions

    saved = core.rank.PARALLEL_MIN_EDGES
    with tempfile.TemporaryDirectory(prefix="renown-warm-") as folder:
        runs = _inputs(folder)
        try:
            for threshold in (saved, 0):  # serial kernels for small graphs, parallel ones for large
                core.rank.PARALLEL_MIN_EDGES = threshold
                for files, options in runs:
                    _score([*files, *options])
                for version in list_versions():
                    _score([runs[0][0][0], "--version", version])
        finally:
            core.rank.PARALLEL_MIN_EDGES = saved
    kernels = _kernels()
    compiled = sum(sum(d.stats.cache_misses.values()) for d in kernels)
    loaded = sum(sum(d.stats.cache_hits.values()) for d in kernels)
    return {"kernels": len(kernels), "compiled": compiled, "loaded": loaded}


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    stats = warm()
    if not args.quiet:
        print(
            f"renown warm: {stats['kernels']} kernels in numba's cache (signatures compiled now: "
            f"{stats['compiled']}, loaded: {stats['loaded']}) in {time.perf_counter() - t0:.1f}s"
        )
    return 0
