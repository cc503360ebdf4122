"""Approval, activation and rollback: the only states that touch what users see. :func:`activate`
switches ``ALGO / ACTIVE`` (conditionally, in one transaction), :func:`refresh_partition` then writes
the active ``SCORE`` items and today's history points, :func:`rollback_activation` switches back when
the refresh failed."""

from __future__ import annotations

import time
from typing import Any

from functions.rescore import engine, releases
from functions.rescore.artifacts import get_json
from functions.rescore.batch import write_parallel
from functions.rescore.run import (
    WRITE_THREADS,
    ActivationConflictError,
    Run,
    artifact_store,
    maybe_fail,
    progress,
    table,
)
from functions.rescore.write import score_records
from functions.shared.score_record import history_point


def request_approval(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """Park the run until someone approves (``renown release --approve``: SendTaskSuccess with the
    token stored here) or rejects (SendTaskFailure)."""
    releases.set_run_fields(
        run.run_id, {"status": "awaiting_approval", "step": "approval", "approval_token": payload["token"]}
    )
    return {"waiting": True}


def activate(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """The switch: ``ALGO / ACTIVE`` names the run's version (only if it still names the version active
    when the run started); the versions are marked active and retired."""
    progress(run, "activate")
    maybe_fail(run, "activate")
    now = int(time.time())
    if not releases.activate_version(run.run_id, run.version, run.previous, now):
        raise ActivationConflictError(
            f"ALGO/ACTIVE is no longer {run.previous!r}: {run.version} was not activated"
        )
    return {"activated": run.version, "previous": run.previous, "since": now}


def refresh_partition(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """After the switch: the denormalised active ``SCORE`` items and today's history points of
    partition ``p``, marked ``version_changed`` where the version differs from the previous score's."""
    p = int(payload["partition"])
    maybe_fail(run, "refresh", p)
    store = artifact_store()
    meta = get_json(store, run.layout.part(p, "meta.json"))
    calibration = engine.load_table(store, run.layout)
    scores = engine.partition_scores(store, run.layout, p, calibration)
    records = score_records(meta, scores, run, active=True)
    items = [r.to_item() for r in records]
    for r in records:
        old_version = meta["previous"].get(r.profile_id, {}).get("old_version")
        items.append(history_point(r, old_version).to_item())
    return {"partition": p, "items": write_parallel(table(), items, threads=WRITE_THREADS)}


def rollback_activation(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """The switch backwards when the refresh after it failed: ``ALGO / ACTIVE`` names the previous
    version again (only if it still names this run's). Readers that find a ``SCORE`` item of another
    version than the active one read ``SCORE#<active>`` (every version keeps them)."""
    return {
        "rolled_back": releases.roll_back_activation(run.run_id, run.version, run.previous, int(time.time()))
    }
