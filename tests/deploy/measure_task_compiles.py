"""What every rescoring task and the ingest path compile at a cold start: numba kernels compiled versus
loaded from the ScoringLayer's shipped cache, task by task.

Each task runs in a fresh process of the functions' interpreter, laid out as Lambda lays it out (the
layers merged under ``/opt/python``, the function code as ``/var/task``, read-only when this process may
bind-mount, an empty ``NUMBA_CACHE_DIR`` as Lambda's ``/tmp``), on a partitioned population the parent
prepared in a directory store: the single solve (``score_population`` + ``explain``), then ``build``,
``setup``, ``iterate``, ``converge``, ``components`` and ``calibrate`` of one partition (the Distributed
Map's items), and the ingest path (the handlers' imports and the score updater's incremental math).
It counts, over every numba dispatcher the process holds, the signatures compiled (neither found in
the cache nor inlined in a cached caller) and those loaded from the cache. Run as root::

    .venv/bin/python -m tests.deploy.measure_task_compiles [--python PATH] [--layers DIR]

``--python`` defaults to this interpreter (the layers are built for its version, with their cache).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.deploy.lambda_layout import build_function, build_layers
from tests.deploy.measure_cold_start import Layout

VERSION = "v2"  # the version with fresh-account factors: every branch of the model runs
PARTITIONS = 3
POPULATION = (800, 9000, 5)  # profiles, engagement rows, seed of renown.simulate.generate

CHILD = r"""
import json, os, sys, time
spec = json.loads(sys.argv[1])
t0 = time.perf_counter()
task, a = spec["task"], spec["args"]
out = {}
if task == "ingest":
    import functions.ingest.receiver, functions.ingest.processor, functions.ingest.score_updater  # noqa
    from functions.ingest import incremental as inc
    from core.versions import get_version
    params = get_version(spec["version"])
    t1 = time.perf_counter()
    state = inc.RankState(x=2.0, tele=0.5, s0=3.0, t0=1.7e9, current={"a": 2.0}, base={"a": 1.0})
    edge = {"engager_id": "u", "c_like": 2, "d_like": 1.5, "c_share": 1, "d_share": 0.7}
    inflow, amp = inc.author_row([edge], {"u": state}, params, 1.7e9 + 86400.0)
    out["raw"] = inc.author_state(state, inflow, amp, inc.volume(40.0, params), params).raw
else:
    import functions.rescore  # its first act: use_shipped_cache()
    from functions.rescore import partitioned_solve
    from functions.rescore.artifacts import DirArtifactStore, Layout
    from core.versions import get_version
    params = get_version(spec["version"])
    store, layout = DirArtifactStore(spec["root"]), Layout(spec["prefix"])
    t1 = time.perf_counter()
    if task == "solve_single":
        from core.explain import explain
        import json as _json
        import numpy as _np
        from core.scoring import score_population
        from core.types import Accounts, Engagements
        pop = _np.load(spec["root"] + "/population.npz")
        names = _json.loads(open(spec["root"] + "/population.json").read())
        eng = Engagements(pop["src"], pop["dst"], pop["weight"], pop["etype"], pop["ts"])
        acc = Accounts(names["ids"], pop["network"], pop["profile"], pop["followers"], pop["posts"],
                       pop["created"], names["profiles"])
        result = score_population(eng, acc, params, now=a["now"])
        explain(result, eng, acc, 0)
        out["iterations"] = result.iterations
    elif task == "build":
        out = partitioned_solve.build_partition(store, layout, a["p"], params)
    elif task == "setup":
        out = partitioned_solve.setup_partition(store, layout, a["p"], params, a["tele_sum"])
    elif task == "iterate":
        out = partitioned_solve.iterate_partition(store, layout, a["p"], params, a["k"], a["betas"])
    elif task == "converge":
        out = partitioned_solve.converge(a["k"], a["betas"], a["results"], params)
    elif task == "components":
        out = partitioned_solve.components_partition(
            store, layout, a["p"], params, a["final"], a["betas"], a["unit"]
        )
    elif task == "calibrate":
        out = partitioned_solve.calibrate(store, layout, params)
t2 = time.perf_counter()
compiled, loaded, kernels = {}, 0, 0
if "numba" in sys.modules:
    from numba.core.registry import CPUDispatcher
    seen = set()
    for name, mod in list(sys.modules.items()):
        for attr, value in list(vars(mod).items()):
            if isinstance(value, CPUDispatcher) and id(value) not in seen:
                seen.add(id(value))
                kernels += 1
                hits = sum(value.stats.cache_hits.values())
                loaded += hits
                if len(value.overloads) > hits:
                    compiled[f"{name}.{attr}"] = len(value.overloads) - hits
print(json.dumps({"import_s": t1 - t0, "run_s": t2 - t1, "numba": "numba" in sys.modules,
                  "kernels": kernels, "loaded": loaded, "compiled": compiled,
                  "out": {k: v for k, v in out.items() if isinstance(v, (int, float, str, bool))}}))
"""


def prepare(root: Path) -> dict[str, dict[str, Any]]:
    """A partitioned population in a directory store, solved through; per task, the arguments of one
    representative invocation (partition 0; the second pass; the final iterate)."""
    from core.versions import get_version
    from functions.rescore import partitioned_solve
    from functions.rescore.artifacts import DirArtifactStore
    from functions.rescore.artifacts import Layout as StoreLayout
    from renown.simulate import NOW, generate

    params = get_version(VERSION)
    store, layout = DirArtifactStore(root), StoreLayout("runs/m")
    eng, acc = generate(*POPULATION)
    # the single solve's probe reads the population from here (renown is not in the Lambda layout)
    root.mkdir(parents=True, exist_ok=True)
    np.savez(
        root / "population.npz", src=eng.src, dst=eng.dst, weight=eng.weight, etype=eng.etype, ts=eng.ts,
        network=acc.network, profile=acc.profile, followers=acc.followers, posts=acc.posts,
        created=acc.created,
    )  # fmt: skip
    (root / "population.json").write_text(json.dumps({"ids": acc.ids, "profiles": acc.profile_ids}))
    man = partitioned_solve.partition_population(store, layout, eng, acc, params, NOW, PARTITIONS)
    builds = [partitioned_solve.build_partition(store, layout, p, params) for p in range(PARTITIONS)]
    scalars = partitioned_solve.setup_scalars(man, builds)
    for p in range(PARTITIONS):
        partitioned_solve.setup_partition(store, layout, p, params, scalars["tele_sum"])
    state: dict[str, Any] = {"k": 1, "betas": [1.0], "done": False}
    second: dict[str, Any] = {}
    while not state["done"]:
        k, betas = state["k"], state["betas"]
        results = [
            partitioned_solve.iterate_partition(store, layout, p, params, k, betas) for p in range(PARTITIONS)
        ]
        if k == 2:
            second = {"k": k, "betas": betas, "results": results}
        state = partitioned_solve.converge(k, betas, results, params)
    final = int(state["final"])
    for p in range(PARTITIONS):
        partitioned_solve.components_partition(
            store, layout, p, params, final, state["betas"], scalars["unit"]
        )
    return {
        "solve_single": {"now": NOW},
        "build": {"p": 0},
        "setup": {"p": 0, "tele_sum": scalars["tele_sum"]},
        "iterate": {"p": 0, "k": 2, "betas": second["betas"]},
        "converge": second,
        "components": {"p": 0, "final": final, "betas": state["betas"], "unit": scalars["unit"]},
        "calibrate": {},
        "ingest": {},
    }


def run_task(task: str, args: dict[str, Any], root: Path, layout: Layout) -> dict[str, Any]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(layout.task), "/opt/python", str(layout.sdk)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(layout.work),
        "NUMBA_NUM_THREADS": "2",
        "NUMBA_CACHE_DIR": tempfile.mkdtemp(prefix="tmp-numba-", dir=layout.work),  # Lambda's empty /tmp
    }
    spec = json.dumps({"task": task, "args": args, "root": str(root), "prefix": "runs/m", "version": VERSION})
    start = time.perf_counter()
    proc = subprocess.run(
        [layout.python, "-s", "-S", "-c", CHILD, spec],
        cwd=layout.task,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-3:]}
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - start
    return out


def measure(work: Path, python: str, layers: Path | None = None) -> dict[str, dict[str, Any]]:
    """Cold start of every task (see the module's docstring); needs root (``/opt`` links)."""
    probe = [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    pyver = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
    layers = layers or build_layers(work / "layers", pyver, "required", python)
    task_dir = build_function(work / "task", "RescoreTaskFunction", pyver, python)
    root = work / "store"
    tasks = prepare(root)
    layout = Layout(layers, task_dir, work, python)
    results: dict[str, dict[str, Any]] = {}
    with layout:
        for task, args in tasks.items():
            results[task] = run_task(task, args, root, layout)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the functions' interpreter")
    parser.add_argument("--layers", type=Path, help="layers built for that Python (default: build them)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="renown-tasks-") as tmp:
        results = measure(Path(tmp), args.python, args.layers)
    print(f"cold start per task (a fresh process each; load average {os.getloadavg()[0]:.2f}):")
    for task, r in results.items():
        if "error" in r:
            print(f"  {task:13s} ERROR {r['error']}")
            continue
        print(
            f"  {task:13s} compiled {sum(r['compiled'].values()):2d}  loaded {r['loaded']:2d}  "
            f"import {r['import_s']:.2f} s  run {r['run_s']:.2f} s  numba {'yes' if r['numba'] else 'no'}"
            + (f"  compiled: {r['compiled']}" if r["compiled"] else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
