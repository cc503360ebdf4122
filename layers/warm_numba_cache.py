"""Fill the numba cache of the scoring core for the ScoringLayer (run by ``layers/Makefile``).

Lambda unpacks the layer read-only under ``/opt``, where numba cannot cache (``no locator available``)
and would compile every kernel on the first solve. So the layer ships a cache, compiled for a generic
x86-64 CPU (``NUMBA_CPU_NAME=generic``: the index is keyed by CPU name and features, and Lambda's hosts
vary), and ``functions/shared/numba_cache.py`` copies it to ``/tmp`` at init and points
``NUMBA_CACHE_DIR`` at the copy.

numba files a cache under ``NUMBA_CACHE_DIR/<dir>_<sha1 of the source's absolute directory>``: this
script compiles with the core where the build put it, then renames that directory to the one numba
computes for the runtime path (``/opt/python/core``). The index of each file is keyed by a hash of the
source's contents, the Python version (in the file name), the numba version, the signature and the
CPU: the interpreter that runs this must be the runtime's (``python3.12``), loading the layer's own
numpy/numba (``PYTHONPATH=<layer>/python``, ``-s -S``).

Usage (environment: ``NUMBA_CACHE_DIR=<out>``, ``NUMBA_CPU_NAME=generic``, ``NUMBA_NUM_THREADS=2``)::

    python3.12 -s -S warm_numba_cache.py compile   # compile every kernel the functions call
    python3.12 -s -S warm_numba_cache.py check     # fresh process: every kernel loads from the cache
    python3.12 -s -S warm_numba_cache.py relocate /opt/python/core
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any


def _partitioned(engagements: Any, accounts: Any, params: Any, now: float) -> None:
    """The partitioned solve's tasks (build, setup, iterate, components) on one partition holding the
    whole population, with the dtypes ``functions/rescore/partitioned_solve.py`` stores and reads."""
    import numpy as np

    from core import model, partitioned

    g = {
        "src": engagements.src.astype(np.int64),
        "dst": engagements.dst.astype(np.int64),
        "weight": engagements.weight,
        "etype": engagements.etype,
        "ts": engagements.ts,
        "followers": accounts.followers,
        "posts": accounts.posts,
    }
    if params.integrity is not None:  # the integrity versions' build and setup
        from core import pairs, partitioned_integrity

        g |= {"created": accounts.created, "profile": accounts.profile, "seen": pairs.first_seen(
            engagements.src, engagements.dst, engagements.ts, accounts.n_accounts)}  # fmt: skip
        coverage, history = partitioned_integrity.time_evidence(engagements.ts)
        irows = partitioned_integrity.build_integrity_rows(g, 0, params, now, coverage, history)
        reverse = partitioned_integrity.reverse_counts(
            irows.indptr, irows.halo[irows.indices], 0, irows.halo[irows.indices],
            np.repeat(np.arange(len(irows.indptr) - 1), np.diff(irows.indptr)), irows.pair_count,
            accounts.n_accounts,
        )  # fmt: skip
        partitioned_integrity.integrity_setup(
            irows.pair_count, reverse, np.ones(accounts.n_accounts), irows.established, irows.tele_raw,
            float(irows.tele_raw.sum()), accounts.n_accounts, params,
        )  # fmt: skip
    cand = model.fresh_candidates(accounts.created, accounts.followers, params, now)
    rows = partitioned.build_rows(g, 0, cand, params, now)
    out_weight = np.zeros(accounts.n_accounts)
    out_weight[rows.halo] = rows.out_partial
    terms = partitioned.setup_rows(out_weight, rows.fresh, rows.tele_raw, float(rows.tele_raw.sum()), params)
    stored = {
        "indptr": rows.indptr,
        "indices": rows.indices,
        "weights": rows.weights,
        "amp_frac": rows.amp_frac,
    }
    z = (terms["teleport"] * terms["scale"])[rows.halo]
    f = partitioned.iterate_rows(stored, z.astype(np.float32), params.damping)
    beta = 1.0 - float(f.sum())
    partitioned.partition_components(stored, z, terms["teleport"], rows.volume, 1.0, beta, params)


def _workload() -> None:
    """Run what the rescoring tasks run, on a small graph, through every kernel variant."""
    import numpy as np

    import core.rank
    from core.explain import explain
    from core.graph import build_csr
    from core.incremental import make_state, update_scores
    from core.rank import influence_rank
    from core.scoring import score_population
    from core.types import Accounts, Engagements
    from core.versions import get_version, list_versions

    rng = np.random.default_rng(7)
    n, m, now = 64, 600, 1_700_000_000.0
    networks = ("twitter", "mastodon", "bluesky", "youtube")
    ids = [f"{networks[i % len(networks)]}:{i}" for i in range(n)]
    created = np.where(rng.random(n) < 0.1, now - 86_400.0, now - 400 * 86_400.0)
    created[::9] = np.nan
    accounts = Accounts.from_ids(
        ids, followers=rng.integers(0, 5000, n), posts=rng.integers(0, 300, n), created=created
    )
    ts = now - rng.random(m) * 90 * 86_400.0
    ts[::11] = np.nan
    engagements = Engagements.from_arrays(
        rng.integers(0, n, m), rng.integers(0, n, m), rng.integers(1, 5, m), rng.integers(0, 8, m), ts
    )
    saved = core.rank.PARALLEL_MIN_EDGES
    try:
        for threshold in (saved, 0):  # serial kernels for small graphs, parallel ones for large
            core.rank.PARALLEL_MIN_EDGES = threshold
            for version in list_versions():
                result = score_population(engagements, accounts, version=version, now=now)
                score_population(
                    engagements, accounts, version=version, now=now, previous=result.ranks,
                    calibration=result.calibration,
                )  # fmt: skip
            graph = result.graph.csr  # type: ignore[union-attr]
            for method in ("jacobi", "gauss-seidel"):
                influence_rank(graph, method=method)
                influence_rank(graph, accounts.followers + 1.0, x0=result.ranks, method=method)
        build_csr(engagements.src, engagements.dst, None, n)
        build_csr(engagements.src, engagements.dst, engagements.weight, n)
        for index in range(3):
            explain(result, engagements, accounts, index)
        for version in list_versions():
            _partitioned(engagements, accounts, get_version(version), now)
        state = make_state(result)
        update_scores(state, Engagements.from_arrays([1, 2, 3], [4, 5, 6], ts=now))
    finally:
        core.rank.PARALLEL_MIN_EDGES = saved


def _dispatchers() -> list[tuple[str, Any]]:
    from numba.core.registry import CPUDispatcher

    found = []
    for name, module in sorted(sys.modules.items()):
        if name == "core" or name.startswith("core."):
            for attr, value in vars(module).items():
                if isinstance(value, CPUDispatcher):
                    found.append((f"{name}.{attr}", value))
    return found


def cache_subdir(source_dir: str) -> str:
    """The directory numba files a module's cache under (``_CacheLocator.get_suitable_cache_subpath``)."""
    path = os.path.abspath(source_dir)
    return f"{os.path.basename(path)}_{hashlib.sha1(path.encode()).hexdigest()}"


def _core_dir() -> str:
    import core

    return str(Path(core.__file__).resolve().parent)


def main(argv: list[str]) -> int:
    if os.environ.get("NUMBA_CPU_NAME") != "generic" or not os.environ.get("NUMBA_CACHE_DIR"):
        print("set NUMBA_CPU_NAME=generic and NUMBA_CACHE_DIR", file=sys.stderr)
        return 2
    expected = os.environ.get("RENOWN_LAYER_PYVER")
    running = "{}.{}".format(*sys.version_info[:2])
    if expected and expected != running:
        print(f"the layer targets Python {expected} but this is {running}: its cache would never load",
              file=sys.stderr)  # fmt: skip
        return 2
    cache_dir = Path(os.environ["NUMBA_CACHE_DIR"])
    command = argv[0] if argv else "compile"
    if command == "relocate":
        source = cache_dir / cache_subdir(_core_dir())
        target = cache_dir / cache_subdir(argv[1])
        if source != target:
            if target.exists():
                raise SystemExit(f"{target} exists")
            source.rename(target)
        print(f"numba cache: {source.name} -> {target.name} (for {argv[1]})")
        return 0
    _workload()
    kernels = _dispatchers()
    misses = {name: dict(d.stats.cache_misses) for name, d in kernels if d.stats.cache_misses}
    compiled = sum(len(d.signatures) for _, d in kernels)
    if command == "check":
        # kernels only called from other kernels come inside their callers' cached code: no signatures
        print(f"numba cache check: {compiled} signatures of {len(kernels)} kernels, misses: {misses or 0}")
        return 1 if misses else 0
    files = list((cache_dir / cache_subdir(_core_dir())).glob("*.nbi"))
    print(f"numba cache: compiled {compiled} signatures of {len(kernels)} kernels into {len(files)} indexes")
    unused = [name for name, d in kernels if not d.signatures]
    if unused:
        print(f"kernels the workload never reached (extend _workload): {unused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
