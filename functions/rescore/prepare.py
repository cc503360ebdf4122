"""The first two states of a run: Prepare (validate the request, resolve the version and its
parameters, claim the release, record the run) and Snapshot (scan the table into partitions in S3 and
choose the solver)."""

from __future__ import annotations

import math
import time
from typing import Any

from core.errors import RenownCoreError
from core.versions import AlgorithmParams, get_version, list_versions, params_digest
from functions.rescore import partitioned_solve, releases
from functions.rescore.artifacts import ArtifactStore, get_json, put_json
from functions.rescore.graph_source import read_snapshot
from functions.rescore.outcome import finish_run
from functions.rescore.profile_extras import profile_extras
from functions.rescore.run import (
    EDGES_PER_PARTITION,
    MAX_PARTITIONS,
    SINGLE_MAX_ACCOUNTS,
    SINGLE_MAX_EDGES,
    ReleaseConflictError,
    Run,
    RunRequest,
    TaskInputError,
    artifact_store,
    maybe_fail,
    params_of,
    progress,
    scan_table,
)
from functions.shared.records import RunRecord
from functions.shared.settings import get_settings


def load_release_params(
    version: str,
    params_key: str | None,
    store: ArtifactStore | None = None,
    stored: dict[str, Any] | None = None,
) -> AlgorithmParams:
    """The parameters of a release: the JSON at ``params_key`` in the artifacts bucket (validated by
    ``core.versions.AlgorithmParams``), else the built-in version ``version``, else the parameters the
    version was published with before (``stored``: a rollback to a custom version)."""
    try:
        if params_key is None and version not in list_versions() and stored is not None:
            data = dict(stored)
        elif params_key is None:
            return get_version(version).validate()
        else:
            data = get_json(store or artifact_store(), params_key)
        if not isinstance(data, dict):
            raise TaskInputError(f"{params_key}: expected a JSON object of parameters")
        return AlgorithmParams.from_dict(version, data)
    except (RenownCoreError, TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, TaskInputError):
            raise
        raise TaskInputError(f"parameters of {version}: {exc}") from exc
    except Exception as exc:  # S3 errors: NoSuchKey
        if type(exc).__name__ in ("NoSuchKey", "ClientError"):
            raise TaskInputError(f"parameters of {version}: cannot read {params_key}: {exc}") from exc
        raise


def prepare(payload: dict[str, Any]) -> dict[str, Any]:
    """Validate the request, resolve the version and its parameters, claim the release (idempotency),
    record the run. A release already active or succeeded with the same digest comes back ``skip``."""
    request = RunRequest.model_validate(payload.get("request") or {})
    run_id = str(payload.get("execution") or f"run-{int(time.time() * 1000)}")
    active = releases.active_item()
    previous = str(active["version"]) if active and active.get("version") else None
    version = request.version or previous or get_settings().algorithm_version
    params = load_release_params(version, request.params_key, stored=releases.stored_params(version))
    digest = params_digest(params)
    now = float(request.now) if request.now is not None else time.time()
    run = Run(
        run_id=run_id,
        version=version,
        mode=request.mode,
        digest=digest,
        prefix=f"runs/{run_id}",
        now=now,
        activate=request.activate,
        approval=request.approval,
        previous=previous,
        solver=request.solver,
        partitions=request.partitions,
        inject=request.inject,
    )
    releases.put_run(
        RunRecord(
            run_id=run_id,
            version=version,
            mode=request.mode,
            status="running",
            params_digest=digest,
            previous_version=previous,
            step="prepare",
            started_at=int(time.time()),
        )
    )
    maybe_fail(run, "prepare")
    existing = releases.version_item(version)
    if existing and existing.get("params_digest") and existing["params_digest"] != digest:
        raise ReleaseConflictError(
            f"version {version} was published with other parameters ({str(existing['params_digest'])[:12]}); "
            "release them under a new name"
        )
    if request.mode == "release":
        claim = releases.release_claim(version, digest)
        done = claim is not None and claim.get("status") == "succeeded"
        live = previous == version and existing is not None and existing.get("params_digest") == digest
        # the same release again: nothing to do while it is active, or when it already ran in shadow
        # and is asked in shadow again. Released again after another version took over, it runs: that
        # is a rollback (recomputed on today's data, reported, switched back).
        if live or (done and not request.activate):
            run = run.model_copy(update={"skip": True})
            finish_run(run, "skipped", {"reason": "this release is already active or done"})
            return run.model_dump()
        releases.claim_release(version, digest, run_id, now)
    put_json(artifact_store(), run.layout.params, params.to_dict())
    return run.model_dump()


def choose_solver(engagements: int, accounts: int, requested: str, partitions: int | None) -> tuple[str, int]:
    """``("single", 1)`` for graphs one task solves comfortably, else ``("distributed", P)``.

    Examples
    --------
    >>> choose_solver(1_000, 100, "auto", None)
    ('single', 1)
    >>> choose_solver(50_000_000_000, 900_000_000, "auto", None)
    ('distributed', 2000)
    """
    solver = requested
    if solver == "auto":
        small = engagements <= SINGLE_MAX_EDGES and accounts <= SINGLE_MAX_ACCOUNTS
        solver = "single" if small else "distributed"
    if solver == "single":
        return "single", 1
    count = partitions or max(2, math.ceil(engagements / EDGES_PER_PARTITION))
    return "distributed", min(MAX_PARTITIONS, count)


def snapshot(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """Parallel scan of the table into partitions in S3 (edges by author, accounts, previous scores,
    each profile's style and topic support)."""
    progress(run, "snapshot", "scanning the table")
    maybe_fail(run, "snapshot")
    snap = read_snapshot(scan_table(), page_items=get_settings().snapshot_page_items)
    engagements, accounts = snap.to_core()
    solver, partitions = choose_solver(len(engagements), accounts.n_accounts, run.solver, run.partitions)
    extras = profile_extras(snap, engagements, accounts, params_of(run), run.now)
    previous: dict[str, dict[str, Any]] = {}
    for pid in accounts.profile_ids:
        prof = snap.profiles.get(pid)
        old = snap.scores.get(pid)
        entry: dict[str, Any] = {"name": prof.name if prof else pid} | extras.get(pid, {})
        if old is not None:
            entry |= {"old": old.score, "old_version": old.algorithm_version, "trend": list(old.trend)}
        previous[pid] = entry
    manifest = partitioned_solve.partition_population(
        artifact_store(), run.layout, engagements, accounts, params_of(run), run.now, partitions, previous
    )
    progress(run, "snapshot", f"{manifest.accounts} accounts, {manifest.engagements} rows, {solver}")
    releases.set_run_fields(run.run_id, {"solver": solver, "partitions": partitions})
    return {
        "solver": solver,
        "partitions": partitions,
        "accounts": manifest.accounts,
        "profiles": manifest.profiles,
        "engagements": manifest.engagements,
        "items_key": run.layout.items,
    }
