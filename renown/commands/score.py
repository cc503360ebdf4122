"""``renown score``: score engagement edge files offline and write a CSV of scores.

``renown score EDGES... [--accounts FILE] [--now T] [--out FILE] [--version NAME] [--calibration FILE]
[--stats]``

With ``--out F`` the run also writes ``F.json``: the version, its parameters and digest, the calibration
population and the table, and counts. ``--calibration`` applies a stored table (``F.json`` of an earlier
run, or a table's JSON) instead of fitting one, as the service does between full passes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import sys
import time
from typing import Any

#: Text inputs at least this large get a progress bar (on a terminal).
PROGRESS_BYTES = 32 * 2**20


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "score",
        help="score engagement edge files offline",
        description=(
            "Score engagement edge files (lines 'source target weight [type [unix_time]]') and write a CSV "
            "'account,score,reach,amplification,network_impact', one row per account."
        ),
    )
    p.add_argument(
        "edges",
        nargs="+",
        metavar="EDGES",
        help="edge files: text lines, or Parquet / Arrow IPC (.parquet, .feather, .arrow) with the columns "
        "source, target, weight and optionally type, ts",
    )
    p.add_argument(
        "--accounts", metavar="FILE", help="CSV with 'account' and any of followers, posts, created"
    )
    p.add_argument(
        "--now", type=float, metavar="UNIX_TIME", help="reference time of the decay (default: latest)"
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="output file: .parquet / .feather / .arrow (float64 columns) or CSV (default: standard output)",
    )
    p.add_argument("--version", default="v1", metavar="NAME", help="algorithm version (default v1)")
    p.add_argument(
        "--calibration",
        metavar="FILE",
        help="apply this stored calibration table (a run's OUT.json, or a table's JSON) instead of fitting",
    )
    p.add_argument("--default-type", default="mention", metavar="TYPE", help="type of lines without one")
    p.add_argument("--stats", action="store_true", help="print a JSON line of timings and sizes")
    p.add_argument(
        "--quiet", action="store_true", help="no progress on standard error (none either when not a terminal)"
    )
    return p


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _write_csv(fh: io.TextIOBase | Any, accounts: Any, result: Any, linked: bool) -> None:
    """The scores as CSV through a text stream (two decimals; the reference writer)."""
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


def _columns(accounts: Any, result: Any, linked: bool) -> dict[str, Any]:
    from core.scoring import SUBSCORES

    prof = accounts.profile
    cols: dict[str, Any] = {"account": accounts.ids}
    if linked:
        cols["profile"] = [accounts.profile_ids[p] for p in prof.tolist()]
    cols["score"] = result.score[prof]
    for name in SUBSCORES:
        cols[name] = result.subscores[name][prof]
    if getattr(result, "integrity", None) is not None:  # the calibration population (from v3)
        cols["calibrated"] = result.integrity.calibrated[prof].astype("float64")
    return cols


def load_calibration(path: str) -> Any:
    """A calibration table from a run manifest (``OUT.json``) or a table's own JSON."""
    from core.calibration import CalibrationTable
    from core.errors import InputFormatError, InvalidParametersError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFormatError(f"cannot read the calibration table: {exc}", path) from None
    if isinstance(data, dict) and isinstance(data.get("calibration"), dict):
        data = data["calibration"]
    if not isinstance(data, dict):
        raise InputFormatError("not a calibration table (a JSON object with raw and score)", path)
    try:
        return CalibrationTable.from_dict(data)
    except InvalidParametersError as exc:
        raise InputFormatError(str(exc), path) from None


def manifest(result: Any, accounts: Any, n_edges: int, calibration_file: str | None) -> dict[str, Any]:
    """What a score file was made with: version, parameters, calibration population and table, counts."""
    import numpy as np

    detail = result.integrity
    rules = result.params.integrity
    if rules is not None and detail is not None:
        population = {
            "rule": (
                f"profiles with engagement in the window from at least {rules.min_engagers} distinct "
                "engagers, established (first seen or created at least "
                f"{rules.established_min_days:g} days before, fully from {rules.established_full_days:g})"
            ),
            "profiles": int(detail.calibrated.sum()),
        }
        flagged = int((detail.established < 0.5).sum())
        calibrated = int(detail.calibrated.sum())
    else:
        population = {"rule": "every profile", "profiles": int(accounts.n_profiles)}
        flagged = int(np.asarray(result.graph.fresh).sum()) if result.graph is not None else 0
        calibrated = int(accounts.n_profiles)
    return {
        "version": result.version,
        "params_digest": result.params_digest,
        "params": result.params.to_dict(),
        "calibration_population": population,
        "calibration_source": calibration_file or "fitted on this population",
        "calibration": result.calibration.to_dict(),
        "now": result.graph.now if result.graph is not None else None,
        "counts": {
            "accounts": int(accounts.n_accounts),
            "profiles": int(accounts.n_profiles),
            "engagements": int(n_edges),
            "flagged": flagged,
            "calibrated": calibrated,
        },
    }


def _text_cells(values: list[str]) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values, type=pa.large_string())
    special = pc.match_substring_regex(arr, '[,"\\n\\r]')
    if pc.any(special).as_py():
        mask = special.to_numpy(zero_copy_only=False)
        quoted = [_csv_cell(s) for s, q in zip(values, mask.tolist(), strict=True) if q]
        arr = pc.replace_with_mask(arr, special, pa.array(quoted, type=pa.large_string()))
    return arr


def write_scores(path: str | None, accounts: Any, result: Any, linked: bool) -> None:
    """Write the scores: Parquet (``.parquet``, ``.pq``) or Arrow IPC (``.feather``, ``.arrow``,
    ``.ipc``) with float64 columns, else CSV with two decimals (standard output when ``path`` is
    ``None``). The CSV is built on whole columns and written in one go."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = _columns(accounts, result, linked)
    ext = os.path.splitext(path or "")[1].lower()
    if ext in (".parquet", ".pq", ".feather", ".arrow", ".ipc"):
        table = pa.table(
            {k: pa.array(v, type=pa.string()) if isinstance(v, list) else v for k, v in cols.items()}
        )
        if ext in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            pq.write_table(table, path)
        else:
            import pyarrow.feather as feather

            feather.write_feather(table, path)
        return
    from renown.fixed_csv import fixed2_lines

    header = ",".join(cols) + "\n"
    texts = [_text_cells(v) for v in cols.values() if isinstance(v, list)]
    numbers = [np.asarray(v) for v in cols.values() if not isinstance(v, list)]
    first = (
        texts[0]
        if len(texts) == 1
        else pc.binary_join_element_wise(*texts, pa.scalar(",", pa.large_string()))
    )
    body: bytes | memoryview = fixed2_lines(first, numbers).data if len(first) else b""
    if path is None:
        out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
        if out is None:  # a text-only stream (tests)
            sys.stdout.write(header + bytes(body).decode())
        else:
            sys.stdout.flush()
            out.write(header.encode())
            out.write(body)
            out.flush()
        return
    with open(path, "wb") as fh:
        fh.write(header.encode())
        fh.write(body)


class _Bar:
    """A byte progress bar over the text edge files (rich), shown on a terminal only."""

    def __init__(self, paths: list[str], enabled: bool) -> None:
        self.progress: Any = None
        self.task: Any = None
        total = 0
        for p in paths:
            if not p.lower().endswith((".parquet", ".pq", ".feather", ".arrow", ".ipc")):
                with contextlib.suppress(OSError):
                    total += os.path.getsize(p)
        if not enabled or total < PROGRESS_BYTES:
            return
        try:
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
        except ImportError:  # pragma: no cover - rich comes with the dev tools
            return
        self.progress = Progress(
            "renown score: reading",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            transient=True,
        )
        self.task = self.progress.add_task("read", total=total)

    def __enter__(self) -> _Bar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    @property
    def callback(self) -> Any:
        if self.progress is None:
            return None
        return lambda n: self.progress.advance(self.task, n)


def run(args: argparse.Namespace) -> int:
    from core.errors import RenownCoreError

    show = not args.quiet and sys.stderr.isatty()

    def progress(msg: str) -> None:
        if show:
            print(f"renown score: {msg}", file=sys.stderr, flush=True)

    try:
        from core.edgelist import read_edges
        from core.io import attach_accounts, read_accounts_csv
        from core.scoring import score_population
        from core.versions import get_version

        params = get_version(args.version)
        t0 = time.perf_counter()
        with _Bar(list(args.edges), show) as bar:
            engagements, accounts = read_edges(
                args.edges, default_type=args.default_type, progress=bar.callback, compact=True
            )
        linked = False
        if args.accounts:
            table = read_accounts_csv(args.accounts)
            accounts = attach_accounts(accounts, table)
            linked = table.profile is not None
        load_s = time.perf_counter() - t0
        n_edges = len(engagements)
        progress(f"loaded {n_edges:,} engagements, {accounts.n_accounts:,} accounts in {load_s:.2f}s")
        progress("scoring...")
        stored = load_calibration(args.calibration) if args.calibration else None
        result = score_population(engagements, accounts, params, now=args.now, calibration=stored)
        del engagements
        progress(f"scored in {result.iterations} passes; writing")
        t1 = time.perf_counter()
        write_scores(args.out, accounts, result, linked)
        if args.out:
            with open(args.out + ".json", "w", encoding="utf-8") as fh:
                json.dump(manifest(result, accounts, n_edges, args.calibration), fh, indent=1)
        write_s = time.perf_counter() - t1
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
            "write_s": round(write_s, 4),
            "total_s": round(time.perf_counter() - t0, 4),
            "load_edges_per_s": round(n_edges / load_s) if load_s > 0 else None,
            "nodes": accounts.n_accounts,
            "edges": n_edges,
            "pairs": result.graph.csr.nnz if result.graph is not None else None,
            "peak_rss_mb": round(_peak_rss_mb(), 1),
            "version": result.version,
        }
        print(json.dumps(stats), file=sys.stdout if args.out else sys.stderr)
    return 0
