"""``renown score``: score engagement edge files offline and write a CSV of scores.

``renown score EDGES... [--accounts FILE] [--now T] [--out FILE] [--version NAME] [--stats]``
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import time
from typing import Any

PROGRESS_EDGES = 100_000


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "score",
        help="score engagement edge files offline",
        description=(
            "Score engagement edge files (lines 'source target weight [type [unix_time]]') and write a CSV "
            "'account,score,reach,amplification,network_impact', one row per account."
        ),
    )
    p.add_argument("edges", nargs="+", metavar="EDGES", help="edge list file(s)")
    p.add_argument(
        "--accounts", metavar="FILE", help="CSV with 'account' and any of followers, posts, created"
    )
    p.add_argument(
        "--now", type=float, metavar="UNIX_TIME", help="reference time of the decay (default: latest)"
    )
    p.add_argument("--out", metavar="FILE", help="output CSV (default: standard output)")
    p.add_argument("--version", default="v1", metavar="NAME", help="algorithm version (default v1)")
    p.add_argument("--default-type", default="mention", metavar="TYPE", help="type of lines without one")
    p.add_argument("--stats", action="store_true", help="print a JSON line of timings and sizes")
    p.add_argument("--quiet", action="store_true", help="no progress on standard error")
    return p


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _write_csv(fh: io.TextIOBase | Any, accounts: Any, result: Any, linked: bool) -> None:
    from core.scoring import SUBSCORES

    prof = accounts.profile
    cols = [result.score[prof]] + [result.subscores[name][prof] for name in SUBSCORES]
    header = ["account", "score", *SUBSCORES]
    if linked:
        header.insert(1, "profile")
    fh.write(",".join(header) + "\n")
    text = [[f"{v:.2f}" for v in c.tolist()] for c in cols]
    ids = [_csv_cell(i) for i in accounts.ids]
    if linked:
        pids = [_csv_cell(accounts.profile_ids[p]) for p in prof.tolist()]
        rows = zip(ids, pids, *text, strict=True)
    else:
        rows = zip(ids, *text, strict=True)
    fh.write("\n".join(",".join(r) for r in rows))
    fh.write("\n")


def _csv_cell(s: str) -> str:
    if any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def run(args: argparse.Namespace) -> int:
    from core.errors import RenownCoreError

    def progress(msg: str) -> None:
        if not args.quiet and show:
            print(f"renown score: {msg}", file=sys.stderr, flush=True)

    show = False
    try:
        from core.io import attach_accounts, read_accounts_csv, read_edge_files
        from core.scoring import score_population
        from core.versions import get_version

        params = get_version(args.version)
        t0 = time.perf_counter()
        engagements, accounts = read_edge_files(args.edges, default_type=args.default_type)
        linked = False
        if args.accounts:
            table = read_accounts_csv(args.accounts)
            accounts = attach_accounts(accounts, table)
            linked = table.profile is not None
        load_s = time.perf_counter() - t0
        show = len(engagements) >= PROGRESS_EDGES
        progress(
            f"loaded {len(engagements):,} engagements, {accounts.n_accounts:,} accounts in {load_s:.2f}s"
        )
        progress("scoring (the first run compiles the kernels)...")
        result = score_population(engagements, accounts, params, now=args.now)
        progress(f"scored in {result.iterations} passes; writing")
        if args.out:
            with open(args.out, "w", encoding="utf-8", newline="") as fh:
                _write_csv(fh, accounts, result, linked)
        else:
            _write_csv(sys.stdout, accounts, result, linked)
            sys.stdout.flush()
    except RenownCoreError as exc:
        print(f"renown score: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"renown score: error: {exc}", file=sys.stderr)
        return 2
    if args.stats:
        stats = {
            "load_s": round(load_s, 4),
            "build_s": round(result.timings["build_s"], 4),
            "solve_s": round(result.timings["solve_s"], 4),
            "iterations": result.iterations,
            "calibrate_s": round(result.timings["calibrate_s"], 4),
            "nodes": accounts.n_accounts,
            "edges": len(engagements),
            "pairs": result.graph.csr.nnz if result.graph is not None else None,
            "peak_rss_mb": round(_peak_rss_mb(), 1),
            "version": result.version,
        }
        print(json.dumps(stats), file=sys.stdout if args.out else sys.stderr)
    return 0
