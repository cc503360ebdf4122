"""The full scoring pass of each version side by side (``renown bench --versions v1,v3``).

On the generated population of ``renown simulate`` (people with linked accounts, creation times,
follower and post counts, typed engagements over 60 days; :func:`renown.simulate.generate`), each
version's ``core.scoring.score_population`` is timed in this process, the versions alternating
``--repeat`` times; the table keeps each stage's fastest time per version and prints them as a ratio
to the first version's: the rank solve alone (``solve``) and the whole pass (build, solve, calibrate). The
machine's load average is printed with it: on a shared machine the figures are noisy.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

__all__ = ["bench_versions", "print_versions_summary"]


def bench_versions(
    size: str, profiles: int, edges: int, versions: list[str], repeat: int, seed: int
) -> list[dict[str, Any]]:
    """Time ``score_population`` of every version on one generated population; each stage's fastest."""
    from core.scoring import score_population
    from renown.simulate import NOW, generate

    t0 = time.perf_counter()
    engagements, accounts = generate(profiles, edges, seed)
    print(
        f"\n(generated the {size} population for the versions in {time.perf_counter() - t0:.1f}s)", flush=True
    )
    best: dict[str, dict[str, Any]] = {}
    for _ in range(max(1, repeat)):
        for version in versions:
            gc.collect()
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            result = score_population(engagements, accounts, version, now=NOW)
            total = time.perf_counter() - t0
            row = {
                "graph": f"simulate-{size}",
                "version": version,
                "accounts": accounts.n_accounts,
                "engagements": len(engagements),
                "build_s": result.timings["build_s"],
                "solve_s": result.timings["solve_s"],
                "calibrate_s": result.timings["calibrate_s"],
                "total_s": total,
                "iterations": int(result.iterations),
                "load": load,
            }
            del result
            print(
                f"  {version:>4} on {size}: build {row['build_s']:6.2f}s  solve {row['solve_s']:6.2f}s "
                f"({row['iterations']} passes)  calibrate {row['calibrate_s']:5.2f}s  total {total:6.2f}s  "
                f"load avg {load:.1f}",
                flush=True,
            )
            if version not in best:
                best[version] = row
            else:  # each stage's fastest run (the noise of a shared machine only ever adds time)
                for key in ("build_s", "solve_s", "calibrate_s", "total_s"):
                    best[version][key] = min(best[version][key], row[key])
    return [best[v] for v in versions]


def print_versions_summary(rows: list[dict[str, Any]]) -> None:
    """The versions side by side: times and ratios to the first version of each population."""
    if not rows:
        return
    print(
        "\n== versions side by side (score_population, each stage's fastest of the repeats; ratio = version "
        "time / "
        f"first version's time; load average 1 min: {os.getloadavg()[0]:.1f}) =="
    )
    print(
        f"{'graph':>16} {'version':>7} {'build s':>8} {'solve s':>8} {'passes':>6} {'calib s':>8} "
        f"{'total s':>8} {'solve x':>8} {'s/pass x':>8} {'total x':>8} {'load':>5}"
    )
    first: dict[str, dict[str, Any]] = {}
    for r in rows:
        base = first.setdefault(r["graph"], r)
        per_pass = (r["solve_s"] / max(r["iterations"], 1)) / (base["solve_s"] / max(base["iterations"], 1))
        print(
            f"{r['graph']:>16} {r['version']:>7} {r['build_s']:8.2f} {r['solve_s']:8.2f} "
            f"{r['iterations']:6d} {r['calibrate_s']:8.2f} {r['total_s']:8.2f} "
            f"{r['solve_s'] / base['solve_s']:8.2f} {per_pass:8.2f} "
            f"{r['total_s'] / base['total_s']:8.2f} {r['load']:5.1f}"
        )
