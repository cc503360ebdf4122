"""The run model of the rescoring workflow and its errors.

:class:`RunRequest` is what starts a run (an EventBridge ``AlgorithmReleased`` detail, the daily
schedule, or the same fields given directly); :func:`functions.rescore.prepare.prepare` turns it into a
:class:`Run`, the context every later task receives as ``$.run`` (validated once, by the task
dispatcher in :mod:`functions.rescore.tasks`). Here too: where the run's artifacts and table are, its
parameters, progress notes and the failure injection of the local stage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.versions import AlgorithmParams
from functions.rescore.artifacts import ArtifactStore, Layout, S3ArtifactStore, get_json
from functions.shared import aws, keys
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


class InjectedFailureError(RuntimeError):
    """A failure injected by a test (local stage only)."""


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


# --- where the run's state is -------------------------------------------------------------------

_artifacts: ContextVar[ArtifactStore | None] = ContextVar("rescore_artifacts", default=None)


def artifact_store() -> ArtifactStore:
    """The run's artifacts: the artifacts bucket, or the store of :func:`artifacts_in`."""
    return _artifacts.get() or S3ArtifactStore(get_settings().artifacts_bucket)


@contextmanager
def artifacts_in(store: ArtifactStore) -> Iterator[None]:
    """Keep the artifacts of the tasks run inside the block in ``store`` (an in-process run)."""
    token = _artifacts.set(store)
    try:
        yield
    finally:
        _artifacts.reset(token)


def table() -> Any:
    """The single table (the boto3 resource's ``Table``)."""
    return aws.table()


def scan_table() -> Any:
    """The table for the snapshot's parallel scan, with a long read timeout: a page of a filtered
    segment scan takes seconds on the local stand-in (moto scans the whole table per page)."""
    return aws.table(read_timeout=300)


@lru_cache(maxsize=8)
def _params_cached(source: object, prefix: str) -> AlgorithmParams:
    """``source`` only keys the cache: the bucket's name, or the id of an in-process run's store."""
    data = get_json(artifact_store(), Layout(prefix).params)
    data["type_weights"] = tuple(data["type_weights"])
    data["amplification_types"] = tuple(data["amplification_types"])
    return AlgorithmParams(**data).validate()


def params_of(run: Run) -> AlgorithmParams:
    """The run's parameters (stored by Prepare; read once per process and run)."""
    store = _artifacts.get()
    return _params_cached(id(store) if store is not None else get_settings().artifacts_bucket, run.prefix)


def clear_params_cache() -> None:
    """Forget the parameters read so far (tests that reuse run ids across accounts)."""
    _params_cached.cache_clear()


def progress(run: Run, step: str, text: str = "") -> None:
    """Note the run's current step (``renown release`` shows it while the run goes on)."""
    table().update_item(
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
    answer = table().update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run.run_id)},
        UpdateExpression="ADD #c :one",
        ExpressionAttributeNames={"#c": counter},
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    if int(answer["Attributes"][counter]) <= int(spec.get("times", 1)):
        raise InjectedFailureError(f"injected failure in {task} (partition {partition})")
