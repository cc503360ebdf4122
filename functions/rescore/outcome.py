"""The end states of a run: :func:`finish` (what the demo and ``renown release`` print) and
:func:`mark_failed` (the error on the run; the active version is untouched)."""

from __future__ import annotations

import json
import time
from typing import Any

from functions.rescore import partitioned_solve, releases
from functions.rescore.artifacts import get_json
from functions.rescore.run import Run, artifact_store, check_partitions, maybe_fail
from functions.shared.records import RunRecord


def finish_run(run: Run, status: str, extra: dict[str, Any] | None = None) -> None:
    """Close the run's record; a release also records its outcome (so it may run again)."""
    now = int(time.time())
    releases.set_run_fields(
        run.run_id,
        {
            "status": status,
            "finished_at": now,
            "step": "done",
            "activated": status == "succeeded" and run.activate,
            "outcome": extra or {},
        },
    )
    if run.mode == "release" and status in ("succeeded", "failed"):
        releases.put_release(run.version, run.digest, status, run.run_id, now)


def finish(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """The run's output: what the demo and ``renown release`` print."""
    state = payload.get("state") or {}
    if run.skip:
        return {"version": run.version, "run_id": run.run_id, "skipped": True, "activated": False}
    maybe_fail(run, "finish")
    snap = state.get("snapshot", {})
    if run.activate:
        check_partitions(state.get("refresh"), int(snap.get("partitions", 1)), "refresh")
    out = {
        "version": run.version,
        "run_id": run.run_id,
        "mode": run.mode,
        "solver": snap.get("solver"),
        "partitions": snap.get("partitions"),
        "profiles": snap.get("profiles"),
        "accounts": snap.get("accounts"),
        "engagements": snap.get("engagements"),
        "iterations": state.get("solve", {}).get("iterations"),
        "activated": bool(run.activate),
        "report": {k: v for k, v in state.get("report", {}).items()},
        "top": top_profiles(run),
    }
    finish_run(run, "succeeded", {k: out[k] for k in ("profiles", "engagements", "iterations", "activated")})
    return out


def top_profiles(run: Run, count: int = 10) -> list[str]:
    """The ``count`` highest new scores (from the partitions' report shares)."""
    store = artifact_store()
    man = partitioned_solve.load_manifest(store, run.layout)
    best: list[tuple[float, str]] = []
    for p in range(man.partitions):
        part = get_json(store, run.layout.part(p, "report.json"))
        best += [(-float(s), pid) for pid, s in part["top_new"][:count]]
    return [pid for _, pid in sorted(best)[:count]]


def mark_failed(run: Run | None, payload: dict[str, Any]) -> dict[str, Any]:
    """Record the failure (error and cause) on the run; the active version is untouched. ``run`` is
    None when Prepare itself failed: the run is recorded from the request."""
    state = payload.get("state") or {}
    error = state.get("error") or {}
    now = int(time.time())
    if run is None:
        request = state.get("detail") or state
        known = request if isinstance(request, dict) else {}
        releases.put_run(
            RunRecord(
                run_id=str(payload.get("execution") or "unknown"),
                version=str(known.get("version") or "?"),
                mode=str(known.get("mode", "?")),
                status="failed",
                step="prepare",
                started_at=now,
                finished_at=now,
                error=str(error.get("Error", "")),
                cause=_cause(error.get("Cause")),
            )
        )
        return {"failed": True, "error": error.get("Error")}
    releases.set_run_fields(
        run.run_id,
        {
            "status": "failed",
            "finished_at": now,
            "error": str(error.get("Error", "")),
            "cause": _cause(error.get("Cause")),
        },
    )
    if run.mode == "release" and not run.skip and error.get("Error") != "ReleaseConflictError":
        releases.put_release(run.version, run.digest, "failed", run.run_id, now)
    return {"failed": True, "error": error.get("Error")}


def _cause(cause: Any) -> str:
    """The error message out of a Lambda error cause (JSON with ``errorMessage``) or the raw text.

    Examples
    --------
    >>> _cause('{"errorMessage": "boom"}')
    'boom'
    """
    if not cause:
        return ""
    try:
        data = json.loads(cause)
        return str(data.get("errorMessage", cause))[:2000]
    except (TypeError, ValueError, AttributeError):
        return str(cause)[:2000]
