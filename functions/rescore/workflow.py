"""The tasks of the rescoring state machine (``statemachine/rescore.asl.json``).

Every task takes the run context made by :func:`prepare` (``run``) and what the previous states
returned, reads and writes the run's artifacts in S3 (:mod:`functions.rescore.artifacts`) and keeps the
run's ``ALGO / RUN#<id>`` item current (step, progress, error). Only :func:`activate` (a conditional
switch of ``ALGO / ACTIVE``), :func:`refresh_partition` (after it) and :func:`rollback_activation` touch
what users see; everything before writes shadow items keyed by version.
"""

from __future__ import annotations

import json
import math
import time
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.rescore import engine, publish
from functions.rescore import report as shift
from functions.rescore.artifacts import Layout, S3Store, Store, get_arrays, get_json, put_arrays, put_json
from functions.shared import keys
from functions.shared.records import (
    ExplainRecord,
    HistoryPoint,
    ReleaseRecord,
    RunRecord,
    ScoreRecord,
    ShiftReportRecord,
    VersionRecord,
    _to_dynamo,
)
from functions.shared.settings import get_settings

#: The whole graph is solved in one task (the core's ``score_population``) up to these sizes; above,
#: the Distributed Map solves it in partitions of about ``EDGES_PER_PARTITION`` engagement rows.
SINGLE_MAX_EDGES = 2_000_000
SINGLE_MAX_ACCOUNTS = 1_000_000
EDGES_PER_PARTITION = 25_000_000
MAX_PARTITIONS = 10_000
#: threads writing a partition's items (the write is bound by request latency, not by CPU)
WRITE_THREADS = 4


class TaskInputError(ValueError):
    """The input does not validate: the run fails without retries."""


class ReleaseConflictError(RuntimeError):
    """The same release is running already, or the version name is taken by other parameters."""


class ActivationConflictError(RuntimeError):
    """``ALGO / ACTIVE`` changed since the run started: nothing was switched."""


class PartitionsFailedError(RuntimeError):
    """Some items of a Distributed Map brought no result (a partition failed after its retries)."""


def check_partitions(results: Any, partitions: int, step: str) -> list[dict[str, Any]]:
    """The Map's results, one per partition, or :class:`PartitionsFailedError`. AWS fails the Map
    itself when an item fails (no tolerated failures are declared); moto's interpreter does not, so
    every reduce checks what it got."""
    good = {
        int(r["partition"]): r
        for r in results or []
        if isinstance(r, dict) and isinstance(r.get("partition"), int)
    }
    missing = sorted(set(range(partitions)) - set(good))
    if missing:
        bad = [r for r in results or [] if not (isinstance(r, dict) and "partition" in r)]
        raise PartitionsFailedError(
            f"{step}: partitions {missing} failed: {json.dumps(bad, default=str)[:1500]}"
        )
    return [good[p] for p in range(partitions)]


class InjectedFailureError(RuntimeError):
    """A failure injected by a test (local stage only)."""


# --- run request and context ----------------------------------------------------------------------


class RunRequest(BaseModel):
    """What starts a run: the ``detail`` of an EventBridge ``AlgorithmReleased`` event, the daily
    schedule's ``{"mode": "settle"}`` (the active version again), or the same fields given directly."""

    model_config = ConfigDict(extra="ignore")
    version: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    mode: Literal["release", "settle"] = "settle"
    activate: bool = True
    approval: bool = False
    params_key: str | None = Field(default=None, max_length=512)
    now: float | None = None
    solver: Literal["auto", "single", "distributed"] = "auto"
    partitions: int | None = Field(default=None, ge=1, le=MAX_PARTITIONS)
    inject: dict[str, Any] | None = None  # {"task": NAME, "partition": P, "times": N}: local stage only

    @model_validator(mode="before")
    @classmethod
    def _from_event(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("detail"), dict):
            return data["detail"]
        return data


class Run(BaseModel):
    """The run context every task receives (``$.run`` in the state machine)."""

    model_config = ConfigDict(extra="ignore")
    run_id: str
    version: str
    mode: str
    digest: str
    prefix: str
    now: float
    activate: bool
    approval: bool = False
    previous: str | None = None
    solver: str = "auto"
    partitions: int | None = None
    skip: bool = False
    inject: dict[str, Any] | None = None

    @property
    def layout(self) -> Layout:
        return Layout(self.prefix)


def _table() -> Any:
    from functions.shared.aws import table

    return table()


def _scan_table() -> Any:
    """The table for the snapshot's parallel scan, with a long read timeout: a page of a filtered
    segment scan takes seconds on the local stand-in (moto scans the whole table per page)."""
    from functions.shared.aws import table

    return table(read_timeout=300)


def _store() -> Store:
    return S3Store(get_settings().artifacts_bucket)


@lru_cache(maxsize=8)
def _params_cached(prefix: str) -> Any:
    from core.versions import AlgorithmParams

    data = get_json(_store(), Layout(prefix).params)
    data["type_weights"] = tuple(data["type_weights"])
    data["amplification_types"] = tuple(data["amplification_types"])
    return AlgorithmParams(**data).validate()


def params_of(run: Run) -> Any:
    return _params_cached(run.prefix)


def progress(run: Run, step: str, text: str = "") -> None:
    """Note the run's current step (``renown release`` shows it while the run goes on)."""
    _table().update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run.run_id)},
        UpdateExpression="SET #step = :s, #progress = :p",
        ExpressionAttributeNames={"#step": "step", "#progress": "progress"},
        ExpressionAttributeValues={":s": step, ":p": text},
    )


def maybe_fail(run: Run, task: str, partition: int | None = None) -> None:
    """Raise :class:`InjectedFailureError` when the run asks for it here (tests on the local stack)."""
    spec = run.inject
    if not spec or spec.get("task") != task or get_settings().stage != "local":
        return
    if spec.get("partition") is not None and partition != int(spec["partition"]):
        return
    counter = f"inject_{task}_{partition if partition is not None else 'all'}"
    answer = _table().update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run.run_id)},
        UpdateExpression="ADD #c :one",
        ExpressionAttributeNames={"#c": counter},
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    if int(answer["Attributes"][counter]) <= int(spec.get("times", 1)):
        raise InjectedFailureError(f"injected failure in {task} (partition {partition})")


def _active(table: Any) -> dict[str, Any] | None:
    item: dict[str, Any] | None = table.get_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK}, ConsistentRead=True
    ).get("Item")
    return item


# --- Prepare -------------------------------------------------------------------------------------


def _stored_params(table: Any, version: str) -> dict[str, Any] | None:
    """The parameters a version was published with (``VERSION#<v>``'s ``params``), if any."""
    item = table.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.version_sk(version)}).get("Item")
    if item and isinstance(item.get("params"), str):
        found: dict[str, Any] = json.loads(item["params"])
        return found
    return None


def load_release_params(
    version: str, params_key: str | None, store: Store | None = None, stored: dict[str, Any] | None = None
) -> Any:
    """The parameters of a release: the JSON at ``params_key`` in the artifacts bucket (validated by
    ``core.versions.AlgorithmParams``), else the built-in version ``version``, else the parameters the
    version was published with before (``stored``: a rollback to a custom version)."""
    from core.errors import RenownCoreError
    from core.versions import AlgorithmParams, get_version, list_versions

    try:
        if params_key is None and version not in list_versions() and stored is not None:
            data = dict(stored)
        elif params_key is None:
            return get_version(version).validate()
        else:
            data = get_json(store or _store(), params_key)
        if not isinstance(data, dict):
            raise TaskInputError(f"{params_key}: expected a JSON object of parameters")
        data["name"] = version
        for name in ("type_weights", "amplification_types"):
            if isinstance(data.get(name), list):
                data[name] = tuple(data[name])
        return AlgorithmParams(**data).validate()
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
    from core.versions import params_digest

    request = RunRequest.model_validate(payload.get("request") or {})
    run_id = str(payload.get("execution") or f"run-{int(time.time() * 1000)}")
    table = _table()
    active = _active(table)
    previous = str(active["version"]) if active and active.get("version") else None
    version = request.version or previous or get_settings().algorithm_version
    params = load_release_params(version, request.params_key, stored=_stored_params(table, version))
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
    record = RunRecord(
        run_id=run_id,
        version=version,
        mode=request.mode,
        status="running",
        params_digest=digest,
        previous_version=previous,
        step="prepare",
        started_at=int(time.time()),
    )
    table.put_item(Item=record.to_item())
    maybe_fail(run, "prepare")
    existing = table.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.version_sk(version)}).get("Item")
    if existing and existing.get("params_digest") and existing["params_digest"] != digest:
        raise ReleaseConflictError(
            f"version {version} was published with other parameters ({str(existing['params_digest'])[:12]}); "
            "release them under a new name"
        )
    if request.mode == "release":
        claim = table.get_item(
            Key={"PK": keys.ALGO_PK, "SK": keys.release_sk(version, digest)}, ConsistentRead=True
        ).get("Item")
        done = claim is not None and claim.get("status") == "succeeded"
        live = previous == version and existing is not None and existing.get("params_digest") == digest
        # the same release again: nothing to do while it is active, or when it already ran in shadow
        # and is asked in shadow again. Released again after another version took over, it runs: that
        # is a rollback (recomputed on today's data, reported, switched back).
        if live or (done and not request.activate):
            run = run.model_copy(update={"skip": True})
            finish_run(run, "skipped", {"reason": "this release is already active or done"})
            return run.model_dump()
        try:
            table.put_item(
                Item=ReleaseRecord(
                    version=version,
                    params_digest=digest,
                    status="running",
                    run_id=run_id,
                    updated_at=int(now),
                ).to_item(),
                ConditionExpression="attribute_not_exists(PK) OR #s IN (:failed, :succeeded)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":failed": "failed", ":succeeded": "succeeded"},
            )
        except table.meta.client.exceptions.ConditionalCheckFailedException:
            raise ReleaseConflictError(f"release {version} ({digest[:12]}) is already running") from None
    put_json(_store(), run.layout.params, params.to_dict())
    return run.model_dump()


# --- Snapshot --------------------------------------------------------------------------------------


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


def snapshot(payload: dict[str, Any]) -> dict[str, Any]:
    """Parallel scan of the table into partitions in S3 (edges by author, accounts, previous scores,
    each profile's style and topic support)."""
    from functions.rescore.graph_source import read_snapshot
    from functions.rescore.profile_extras import profile_extras

    run = Run.model_validate(payload["run"])
    progress(run, "snapshot", "scanning the table")
    maybe_fail(run, "snapshot")
    snap = read_snapshot(_scan_table())
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
    manifest = engine.partition_population(
        _store(), run.layout, engagements, accounts, params_of(run), run.now, partitions, previous
    )
    progress(run, "snapshot", f"{manifest.accounts} accounts, {manifest.engagements} rows, {solver}")
    _table().update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run.run_id)},
        UpdateExpression="SET solver = :s, #p = :p",
        ExpressionAttributeNames={"#p": "partitions"},
        ExpressionAttributeValues={":s": solver, ":p": partitions},
    )
    return {
        "solver": solver,
        "partitions": partitions,
        "accounts": manifest.accounts,
        "profiles": manifest.profiles,
        "engagements": manifest.engagements,
        "items_key": run.layout.items,
    }


# --- Solve ------------------------------------------------------------------------------------------


def solve_single(payload: dict[str, Any]) -> dict[str, Any]:
    """The whole graph in one task with the core (``score_population``), written as partition 0."""
    from core.explain import explain
    from core.scoring import score_population
    from core.types import Accounts, Engagements

    run = Run.model_validate(payload["run"])
    progress(run, "solve", "single task")
    maybe_fail(run, "solve_single")
    store, layout = _store(), run.layout
    g = get_arrays(store, layout.part(0, "graph.npz"))
    meta = get_json(store, layout.part(0, "meta.json"))
    accounts = Accounts(
        ids=meta["ids"],
        network=g["network"],
        profile=g["profile"],
        followers=g["followers"],
        posts=g["posts"],
        created=g["created"],
        profile_ids=meta["profiles"],
    )
    engagements = Engagements(g["src"], g["dst"], g["weight"], g["etype"], g["ts"])
    result = score_population(engagements, accounts, params_of(run), now=run.now)
    graph = result.graph
    assert graph is not None
    engine.save_profile_results(
        store,
        layout,
        0,
        accounts.profile,
        accounts.network,
        result.components,
        result.raw_account,
        result.ranks,
    )
    passing = np.where(graph.fresh, result.params.fresh_out_factor, 1.0)
    put_arrays(
        store,
        layout.part(0, "state.npz"),
        scale=graph.scale,
        teleport=graph.teleport,
        out_weight=graph.csr.out_weight,
        passing=passing,
        c=graph.teleport * graph.scale,
    )
    put_json(store, layout.calibration, result.calibration.to_dict())
    explanations = {
        pid: explain(result, engagements, accounts, i)
        for i, pid in enumerate(accounts.profile_ids)
        if not pid.startswith("unlinked:")
    }
    put_json(store, layout.part(0, "explain.json"), explanations)
    beta = float(result.components[:, 0].sum() / (result.params.reach_weight * graph.unit))
    tele_raw = (np.log1p(accounts.followers) + result.params.teleport_eps) * np.where(
        graph.fresh, result.params.fresh_teleport_factor, 1.0
    )
    return {
        "done": True,
        "iterations": int(result.iterations),
        "residual": float(result.residual),
        "unit": float(graph.unit),
        "beta": beta,
        "tele_sum": float(tele_raw.sum()),
    }


def build(payload: dict[str, Any]) -> dict[str, Any]:
    run = Run.model_validate(payload["run"])
    p = int(payload["partition"])
    maybe_fail(run, "build", p)
    return engine.build_partition(_store(), run.layout, p, params_of(run))


def setup_scalars(payload: dict[str, Any]) -> dict[str, Any]:
    run = Run.model_validate(payload["run"])
    man = engine.load_manifest(_store(), run.layout)
    builds = check_partitions(payload.get("builds"), man.partitions, "build")
    scalars = engine.setup_scalars(man, builds)
    progress(run, "solve", f"{man.partitions} partitions built")
    return scalars | {"k": 1, "betas": [1.0], "done": False}


def setup(payload: dict[str, Any]) -> dict[str, Any]:
    run = Run.model_validate(payload["run"])
    p = int(payload["partition"])
    maybe_fail(run, "setup", p)
    return engine.setup_partition(
        _store(), run.layout, p, params_of(run), float(payload["solve"]["tele_sum"])
    )


def iterate(payload: dict[str, Any]) -> dict[str, Any]:
    run = Run.model_validate(payload["run"])
    p = int(payload["partition"])
    solve = payload["solve"]
    maybe_fail(run, "iterate", p)
    return engine.iterate_partition(_store(), run.layout, p, params_of(run), int(solve["k"]), solve["betas"])


def converge(payload: dict[str, Any]) -> dict[str, Any]:
    run = Run.model_validate(payload["run"])
    solve = dict(payload["solve"])
    maybe_fail(run, "converge")
    man = engine.load_manifest(_store(), run.layout)
    if int(solve["k"]) == 1:
        check_partitions(payload.get("setups"), man.partitions, "setup")
    passes = check_partitions(payload.get("passes"), man.partitions, f"pass {solve['k']}")
    state = engine.converge(int(solve["k"]), solve["betas"], passes, params_of(run))
    residual = state["residual"]
    text = f"pass {solve['k']}" + (f", residual {residual:.2e}" if residual is not None else "")
    progress(run, "solve", text + (" (converged)" if state["done"] else ""))
    return solve | state | {"iterations": state["final"]}


def components(payload: dict[str, Any]) -> dict[str, Any]:
    run = Run.model_validate(payload["run"])
    p = int(payload["partition"])
    solve = payload["solve"]
    maybe_fail(run, "components", p)
    return engine.components_partition(
        _store(), run.layout, p, params_of(run), int(solve["final"]), solve["betas"], float(solve["unit"])
    )


# --- Calibrate ---------------------------------------------------------------------------------------


def calibrate(payload: dict[str, Any]) -> dict[str, Any]:
    """Merge the partitions' sketches into the version's calibration table (the single task fitted it
    already) and record the version (status ``shadow`` unless it is the active one)."""
    from core.versions import params_digest

    run = Run.model_validate(payload["run"])
    solve = payload["solve"]
    progress(run, "calibrate")
    maybe_fail(run, "calibrate")
    store = _store()
    params = params_of(run)
    info: dict[str, Any] = {}
    if not store.exists(run.layout.calibration):
        man = engine.load_manifest(store, run.layout)
        check_partitions((payload.get("state") or {}).get("components"), man.partitions, "components")
        info = engine.calibrate(store, run.layout, params)
        beta = float(solve["betas"][int(solve["final"]) + 1])
    else:
        beta = float(solve["beta"])
    table = engine.load_table(store, run.layout)
    table_db = _table()
    existing = table_db.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.version_sk(run.version)}).get("Item")
    status = "active" if existing and existing.get("status") == "active" else "shadow"
    record = VersionRecord(
        version=run.version,
        status=status,
        params_digest=params_digest(params),
        calibration=table.to_dict(),
        created_at=int(existing["created_at"]) if existing and existing.get("created_at") else int(run.now),
        activated_at=int(existing["activated_at"]) if existing and existing.get("activated_at") else None,
    )
    item = record.to_item() | {"params": json.dumps(params.to_dict()), "run_id": run.run_id}
    table_db.put_item(Item=item)
    # the incremental updater's population constants (functions.ingest.incremental.rank_state_items)
    unit = float(solve["unit"])
    tele_sum = float(solve["tele_sum"])
    man = engine.load_manifest(store, run.layout)
    table_db.put_item(
        Item={"PK": keys.ALGO_PK, "SK": f"INCR#{run.version}"}
        | _to_dynamo(
            {
                "t0": float(run.now),
                "tele_unit": unit * beta / tele_sum if tele_sum > 0 else 0.0,
                "accounts": man.accounts,
                "beta": beta,
            }
        )
    )
    return info | {"knots": len(table.raw), "beta": beta}


# --- shadow write --------------------------------------------------------------------------------------


def score_records(
    meta: dict[str, Any], scores: engine.PartitionScores, run: Run, active: bool
) -> list[ScoreRecord]:
    """``ScoreRecord`` of every linked profile of a partition (as ``publish.build_score_records``),
    with the topics scored from the snapshot's topic support and the new score."""
    from core.calibration import bucket_name
    from core.types import NETWORKS
    from functions.rescore.profile_extras import scored_topics
    from functions.rescore.publish import change_since, day_of, next_trend

    version, now = run.version, run.now
    extras = [meta["previous"].get(pid, {}) for pid in scores.profile_ids]
    topics = scored_topics(extras, np.clip(scores.score, 1.0, 100.0), params_of(run))

    day = day_of(now)
    out: list[ScoreRecord] = []
    for i, pid in enumerate(scores.profile_ids):
        if pid.startswith("unlinked:"):
            continue
        prev = meta["previous"].get(pid, {})
        score = float(np.clip(scores.score[i], 1.0, 100.0))
        trend = next_trend([tuple(t) for t in prev.get("trend", [])], day, score)
        out.append(
            ScoreRecord(
                profile_id=pid,
                name=prev.get("name", pid),
                score=round(score, 2),
                raw=float(scores.raw_profile[i]),
                bucket=bucket_name(score),
                algorithm_version=version,
                computed_at=int(now),
                day_change=change_since(trend, day, 1),
                week_change=change_since(trend, day, 7),
                month_change=change_since(trend, day, 30),
                networks={
                    NETWORKS[n]: round(float(scores.network_scores[i, n]), 2)
                    for n in range(scores.network_scores.shape[1])
                    if scores.network_scores[i, n] > 0
                },
                signals={name: round(float(v[i]), 2) for name, v in scores.subscores.items()},
                topics=topics[i],
                style=prev.get("style", {}),
                trend=trend,
                active=active,
            )
        )
    return out


def _rank_items(run: Run, p: int, meta: dict[str, Any], solve: dict[str, Any]) -> list[dict[str, Any]]:
    """The incremental updater's per-account state under the version (``RANK#<version>``)."""
    from functions.ingest.incremental import rank_sk

    store = _store()
    res = get_arrays(store, run.layout.part(p, "result.npz"))
    state = get_arrays(store, run.layout.part(p, "state.npz"))
    unit = float(solve["unit"])
    beta = float(solve.get("beta") or solve["betas"][int(solve["final"]) + 1])
    items = []
    for i, key in enumerate(meta["ids"]):
        network, account_id = key.split(":", 1)
        values = {
            "x": unit * float(res["ranks"][i]),
            "tele": unit * beta * float(state["teleport"][i]),
            "s0": float(state["out_weight"][i]),
            "t0": float(run.now),
            "passing": float(state["passing"][i]),
            "raw": float(res["raw_account"][i]),
            "reach": float(res["comp"][i, 0]),
            "amp": float(res["comp"][i, 1]),
            "impact": float(res["comp"][i, 2]),
        }
        items.append(
            {"PK": keys.account_pk(network, account_id), "SK": rank_sk(run.version)} | _to_dynamo(values)
        )
    return items


def _explanations(run: Run, p: int, scores: engine.PartitionScores) -> dict[str, Any]:
    store = _store()
    key = run.layout.part(p, "explain.json")
    if store.exists(key):
        found: dict[str, Any] = get_json(store, key)
        return found
    return engine.explain_partition(store, run.layout, p, params_of(run), scores, run.version)


def write_shadow(payload: dict[str, Any]) -> dict[str, Any]:
    """Partition ``p``'s scores under ``SCORE#<version>`` (plus explanations and the updater's state),
    in batches with retries; and its share of the shift report."""
    from functions.rescore.batch import write_parallel

    run = Run.model_validate(payload["run"])
    p = int(payload["partition"])
    maybe_fail(run, "write_shadow", p)
    store = _store()
    meta = get_json(store, run.layout.part(p, "meta.json"))
    table = engine.load_table(store, run.layout)
    scores = engine.partition_scores(store, run.layout, p, table)
    records = score_records(meta, scores, run, active=False)
    explanations = _explanations(run, p, scores)
    items = [r.to_item() for r in records]
    items += [leader.to_item() for leader in publish.topic_leaders(records)]
    items += [
        ExplainRecord(profile_id=pid, algorithm_version=run.version, explanation=e).to_item()
        for pid, e in explanations.items()
    ]
    items += _rank_items(run, p, meta, payload["solve"])
    written = write_parallel(_table(), items, threads=WRITE_THREADS)
    linked = [i for i, pid in enumerate(scores.profile_ids) if not pid.startswith("unlinked:")]
    old = np.array(
        [meta["previous"].get(scores.profile_ids[i], {}).get("old", np.nan) for i in linked], dtype=np.float64
    )
    man = engine.load_manifest(store, run.layout)
    part = shift.partition_part(
        [scores.profile_ids[i] for i in linked],
        [meta["previous"].get(scores.profile_ids[i], {}).get("name", "") for i in linked],
        np.round(np.clip(scores.score[linked], 1.0, 100.0), 2),
        old,
        explanations,
        shift.sample_rate(man.profiles),
    )
    put_json(store, run.layout.part(p, "report.json"), part)
    return {"partition": p, "profiles": len(records), "items": written}


# --- Report -------------------------------------------------------------------------------------------


def report(payload: dict[str, Any]) -> dict[str, Any]:
    """Merge the partitions' shares into the shift report; store it (S3 JSON + PNG, ``REPORT#<version>``)."""
    from functions.rescore.png import histogram_png

    run = Run.model_validate(payload["run"])
    progress(run, "report")
    maybe_fail(run, "report")
    store = _store()
    man = engine.load_manifest(store, run.layout)
    check_partitions(payload.get("shadow"), man.partitions, "write_shadow")
    parts = [get_json(store, run.layout.part(p, "report.json")) for p in range(man.partitions)]
    against = run.previous
    merged = shift.merge_parts(parts, run.version, against)
    merged |= {
        "run_id": run.run_id,
        "solver": payload.get("snapshot", {}).get("solver"),
        "partitions": man.partitions,
        "iterations": payload.get("solve", {}).get("iterations"),
    }
    report_key = f"reports/{run.version}/{run.run_id}.json"
    plot_key = f"reports/{run.version}/{run.run_id}.png"
    put_json(store, report_key, merged)
    hist = merged["delta_histogram"]
    store.put_bytes(plot_key, histogram_png(hist["counts"], hist["edges"]))
    table = _table()
    table.put_item(
        Item=ShiftReportRecord(
            version=run.version,
            run_id=run.run_id,
            against=against,
            created_at=int(time.time()),
            report_key=report_key,
            plot_key=plot_key,
            report=merged,
        ).to_item()
    )
    table.update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.version_sk(run.version)},
        UpdateExpression="SET report_key = :r",
        ExpressionAttributeValues={":r": report_key},
    )
    summary = summary_of(merged)
    table.update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run.run_id)},
        UpdateExpression="SET report_key = :r, #summary = :s",
        ExpressionAttributeNames={"#summary": "summary"},
        ExpressionAttributeValues={":r": report_key, ":s": _to_dynamo(summary)},
    )
    return {"report_key": report_key, "plot_key": plot_key, **summary}


def summary_of(merged: dict[str, Any]) -> dict[str, Any]:
    return {
        k: merged[k]
        for k in (
            "profiles",
            "compared",
            "up",
            "down",
            "same",
            "mean_change",
            "mean_abs_change",
            "kendall_tau_b",
            "top_k_overlap",
        )
    }


# --- approval, activation, refresh ----------------------------------------------------------------------


def request_approval(payload: dict[str, Any]) -> dict[str, Any]:
    """Park the run until someone approves (``renown release --approve``: SendTaskSuccess with the
    token stored here) or rejects (SendTaskFailure)."""
    run = Run.model_validate(payload["run"])
    _table().update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run.run_id)},
        UpdateExpression="SET #s = :s, #step = :step, approval_token = :t",
        ExpressionAttributeNames={"#s": "status", "#step": "step"},
        ExpressionAttributeValues={":s": "awaiting_approval", ":step": "approval", ":t": payload["token"]},
    )
    return {"waiting": True}


def activate(payload: dict[str, Any]) -> dict[str, Any]:
    """The switch: one transaction puts ``ALGO / ACTIVE`` (only if it still names the version active
    when the run started) and marks the versions active and retired."""
    run = Run.model_validate(payload["run"])
    progress(run, "activate")
    maybe_fail(run, "activate")
    table = _table()
    client = table.meta.client
    now = int(time.time())
    active_item = {
        "PK": keys.ALGO_PK,
        "SK": keys.ACTIVE_SK,
        "version": run.version,
        "since": now,
        "run_id": run.run_id,
    }
    if run.previous:
        active_item["previous"] = run.previous
    put: dict[str, Any] = {"TableName": table.name, "Item": active_item}
    if run.previous is None:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "version = :prev"
        put["ExpressionAttributeValues"] = {":prev": run.previous}
    actions: list[dict[str, Any]] = [
        {"Put": put},
        {
            "Update": {
                "TableName": table.name,
                "Key": {"PK": keys.ALGO_PK, "SK": keys.version_sk(run.version)},
                "UpdateExpression": "SET #s = :a, activated_at = :t",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":a": "active", ":t": now},
            }
        },
    ]
    if run.previous and run.previous != run.version:
        actions.append(
            {
                "Update": {
                    "TableName": table.name,
                    "Key": {"PK": keys.ALGO_PK, "SK": keys.version_sk(run.previous)},
                    "UpdateExpression": "SET #s = :r",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":r": "retired"},
                }
            }
        )
    try:
        client.transact_write_items(TransactItems=actions)
    except client.exceptions.TransactionCanceledException as exc:
        raise ActivationConflictError(
            f"ALGO/ACTIVE is no longer {run.previous!r}: {run.version} was not activated ({exc})"
        ) from None
    return {"activated": run.version, "previous": run.previous, "since": now}


def refresh_partition(payload: dict[str, Any]) -> dict[str, Any]:
    """After the switch: the denormalised active ``SCORE`` items and today's history points of
    partition ``p``, marked ``version_changed`` where the version differs from the previous score's."""
    from functions.rescore.batch import write_parallel
    from functions.rescore.publish import day_of

    run = Run.model_validate(payload["run"])
    p = int(payload["partition"])
    maybe_fail(run, "refresh", p)
    store = _store()
    meta = get_json(store, run.layout.part(p, "meta.json"))
    table = engine.load_table(store, run.layout)
    scores = engine.partition_scores(store, run.layout, p, table)
    records = score_records(meta, scores, run, active=True)
    day = day_of(run.now)
    items = [r.to_item() for r in records]
    for r in records:
        old_version = meta["previous"].get(r.profile_id, {}).get("old_version")
        items.append(
            HistoryPoint(
                profile_id=r.profile_id,
                day=day,
                score=r.score,
                algorithm_version=run.version,
                version_changed=old_version is not None and old_version != run.version,
            ).to_item()
        )
    return {"partition": p, "items": write_parallel(_table(), items, threads=WRITE_THREADS)}


def rollback_activation(payload: dict[str, Any]) -> dict[str, Any]:
    """The switch backwards when the refresh after it failed: ``ALGO / ACTIVE`` names the previous
    version again (only if it still names this run's). Readers that find a ``SCORE`` item of another
    version than the active one read ``SCORE#<active>`` (every version keeps them)."""
    state = payload.get("state") or {}
    run = Run.model_validate(state["run"])
    table = _table()
    client = table.meta.client
    actions: list[dict[str, Any]] = []
    key = {"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK}
    if run.previous is None:
        actions.append(
            {
                "Delete": {
                    "TableName": table.name,
                    "Key": key,
                    "ConditionExpression": "run_id = :r",
                    "ExpressionAttributeValues": {":r": run.run_id},
                }
            }
        )
    else:
        actions.append(
            {
                "Put": {
                    "TableName": table.name,
                    "Item": key
                    | {"version": run.previous, "since": int(time.time()), "rolled_back": run.run_id},
                    "ConditionExpression": "run_id = :r",
                    "ExpressionAttributeValues": {":r": run.run_id},
                }
            }
        )
        if run.previous != run.version:
            actions.append(
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": {"PK": keys.ALGO_PK, "SK": keys.version_sk(run.previous)},
                        "UpdateExpression": "SET #s = :a",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":a": "active"},
                    }
                }
            )
    if run.previous != run.version:
        actions.append(
            {
                "Update": {
                    "TableName": table.name,
                    "Key": {"PK": keys.ALGO_PK, "SK": keys.version_sk(run.version)},
                    "UpdateExpression": "SET #s = :f",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":f": "shadow"},
                }
            }
        )
    try:
        client.transact_write_items(TransactItems=actions)
        return {"rolled_back": True}
    except client.exceptions.TransactionCanceledException:
        return {"rolled_back": False}


# --- end states ---------------------------------------------------------------------------------------


def finish_run(run: Run, status: str, extra: dict[str, Any] | None = None) -> None:
    table = _table()
    table.update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run.run_id)},
        UpdateExpression="SET #s = :s, finished_at = :t, #step = :d, activated = :a, outcome = :o",
        ExpressionAttributeNames={"#s": "status", "#step": "step"},
        ExpressionAttributeValues={
            ":s": status,
            ":t": int(time.time()),
            ":d": "done",
            ":a": status == "succeeded" and run.activate,
            ":o": _to_dynamo(extra or {}),
        },
    )
    if run.mode == "release" and status in ("succeeded", "failed"):
        table.put_item(
            Item=ReleaseRecord(
                version=run.version,
                params_digest=run.digest,
                status=status,
                run_id=run.run_id,
                updated_at=int(time.time()),
            ).to_item()
        )


def finish(payload: dict[str, Any]) -> dict[str, Any]:
    """The run's output: what the demo and ``renown release`` print."""
    state = payload.get("state") or {}
    run = Run.model_validate(state["run"])
    if run.skip:
        return {"version": run.version, "run_id": run.run_id, "skipped": True, "activated": False}
    maybe_fail(run, "finish")
    snap = state.get("snapshot", {})
    if run.activate:
        check_partitions(state.get("refresh"), int(snap.get("partitions", 1)), "refresh")
    top = top_profiles(run)
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
        "top": top,
    }
    finish_run(run, "succeeded", {k: out[k] for k in ("profiles", "engagements", "iterations", "activated")})
    return out


def top_profiles(run: Run, count: int = 10) -> list[str]:
    store = _store()
    man = engine.load_manifest(store, run.layout)
    best: list[tuple[float, str]] = []
    for p in range(man.partitions):
        part = get_json(store, run.layout.part(p, "report.json"))
        best += [(-float(s), pid) for pid, s in part["top_new"][:count]]
    return [pid for _, pid in sorted(best)[:count]]


def mark_failed(payload: dict[str, Any]) -> dict[str, Any]:
    """Record the failure (error and cause) on the run; the active version is untouched."""
    state = payload.get("state") or {}
    error = state.get("error") or {}
    run_data = state.get("run")
    if not run_data:  # Prepare itself failed: record what we know
        request = state.get("detail") or state
        run_id = str(payload.get("execution") or "unknown")
        version = str(request.get("version") or "?") if isinstance(request, dict) else "?"
        _table().put_item(
            Item=RunRecord(
                run_id=run_id,
                version=version,
                mode=str(request.get("mode", "?")) if isinstance(request, dict) else "?",
                status="failed",
                step="prepare",
                started_at=int(time.time()),
                finished_at=int(time.time()),
                error=str(error.get("Error", "")),
                cause=_cause(error.get("Cause")),
            ).to_item()
        )
        return {"failed": True, "error": error.get("Error")}
    run = Run.model_validate(run_data)
    table = _table()
    table.update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run.run_id)},
        UpdateExpression="SET #s = :s, finished_at = :t, #e = :e, cause = :c",
        ExpressionAttributeNames={"#s": "status", "#e": "error"},
        ExpressionAttributeValues={
            ":s": "failed",
            ":t": int(time.time()),
            ":e": str(error.get("Error", "")),
            ":c": _cause(error.get("Cause")),
        },
    )
    if run.mode == "release" and not run.skip and error.get("Error") != "ReleaseConflictError":
        finish_run_release_failed(run)
    return {"failed": True, "error": error.get("Error")}


def finish_run_release_failed(run: Run) -> None:
    _table().put_item(
        Item=ReleaseRecord(
            version=run.version,
            params_digest=run.digest,
            status="failed",
            run_id=run.run_id,
            updated_at=int(time.time()),
        ).to_item()
    )


def _cause(cause: Any) -> str:
    """The error message out of a Lambda error cause (JSON with ``errorMessage``) or the raw text."""
    if not cause:
        return ""
    try:
        data = json.loads(cause)
        return str(data.get("errorMessage", cause))[:2000]
    except (TypeError, ValueError):
        return str(cause)[:2000]
