"""Approval, activation and rollback: the only states that touch what users see. :func:`activate`
switches ``ALGO / ACTIVE`` (conditionally, in one transaction), :func:`refresh_partition` then writes
the active ``SCORE`` items and today's history points (each transaction conditional on ``ALGO /
ACTIVE`` still naming the run's version, so a late refresh never overwrites a newer release),
:func:`rollback_activation` switches back when the refresh or the finish failed and puts back the
previous version's ``SCORE`` items and history points over the ones the failed release wrote."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from functions.rescore import partitioned_solve, releases
from functions.rescore.artifacts import get_json
from functions.rescore.run import (
    WRITE_THREADS,
    ActivationConflictError,
    Run,
    artifact_store,
    maybe_fail,
    params_of,
    progress,
    table,
)
from functions.rescore.write import score_records
from functions.shared import aws, keys
from functions.shared.attribute_values import attribute_values
from functions.shared.records import HistoryPoint, ScoreRecord
from functions.shared.score_record import history_point
from functions.shared.trend import day_of

#: puts per guarded transaction (100 actions at most, one of them the check of ``ALGO / ACTIVE``)
GUARDED_BATCH = 99


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
    calibration = partitioned_solve.load_table(store, run.layout)
    scores = partitioned_solve.partition_scores(store, run.layout, p, calibration, params_of(run))
    records = score_records(meta, scores, run, active=True, calibration=calibration)
    items = [r.to_item() for r in records]
    for r in records:
        old_version = meta["previous"].get(r.profile_id, {}).get("old_version")
        items.append(history_point(r, old_version).to_item())
    return {"partition": p, "items": write_guarded(items, run.version)}


def _guarded_transaction(
    client: Any, table_name: str, actions: list[dict[str, Any]], version: str, attempts: int
) -> None:
    """One ``TransactWriteItems``: ``actions`` (``Put``/``Delete`` bodies without the table name) and
    a ``ConditionCheck`` that ``ALGO / ACTIVE`` names ``version``. Raises
    :class:`ActivationConflictError` when it does not; retries transaction conflicts and throttling."""
    check = {
        "ConditionCheck": {
            "TableName": table_name,
            "Key": attribute_values({"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK}),
            "ConditionExpression": "#v = :v",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":v": {"S": version}},
        }
    }
    request = [check] + [
        {kind: _serialised_body(body) | {"TableName": table_name}}
        for a in actions
        for kind, body in a.items()
    ]
    for attempt in range(attempts):
        try:
            client.transact_write_items(TransactItems=request)
            return
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code")
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if error == "TransactionCanceledException" and reasons and reasons[0] == "ConditionalCheckFailed":
                raise ActivationConflictError(
                    f"ALGO/ACTIVE no longer names {version!r}: its scores were not written"
                ) from None
            retriable = error in (
                "TransactionCanceledException",
                "ThrottlingException",
                "ProvisionedThroughputExceededException",
                "TransactionInProgressException",
            )
            if not retriable or attempt == attempts - 1:
                raise
        time.sleep(min(5.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))


def _serialised_body(body: dict[str, Any]) -> dict[str, Any]:
    """A ``Put``/``Delete`` body of plain values with its item, key and values serialised."""
    fields = ("Item", "Key", "ExpressionAttributeValues")
    return {name: attribute_values(value) if name in fields else value for name, value in body.items()}


def write_guarded(items: list[dict[str, Any]], version: str, attempts: int = 10) -> int:
    """Put ``items`` (plain Python values) only while ``ALGO / ACTIVE`` names ``version``: transactions
    of up to ``GUARDED_BATCH`` puts, each with a ``ConditionCheck`` on the pointer, in parallel.
    Returns the count; raises :class:`ActivationConflictError` once the pointer names another version
    (the items already written are of the version that was active when they were written)."""
    return _run_guarded([{"Put": {"Item": item}} for item in items], version, attempts)


def _run_guarded(actions: list[dict[str, Any]], version: str, attempts: int = 10) -> int:
    tbl = table()
    client = aws.bulk_client("dynamodb")  # the actions are serialised here (``_serialised_body``)
    keyed = [(a, _action_key(a)) for a in actions]
    batches: list[list[dict[str, Any]]] = []
    batch: dict[tuple[str, str], dict[str, Any]] = {}
    for action, key in keyed:
        if key not in batch and len(batch) == GUARDED_BATCH:
            batches.append(list(batch.values()))
            batch = {}
        batch[key] = action
    if batch:
        batches.append(list(batch.values()))
    if len(batches) <= 1:
        for b in batches:
            _guarded_transaction(client, tbl.name, b, version, attempts)
    else:
        with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
            for _ in pool.map(
                lambda b: _guarded_transaction(client, tbl.name, b, version, attempts), batches
            ):
                pass
    return sum(len(b) for b in batches)


def _action_key(action: dict[str, Any]) -> tuple[str, str]:
    ((kind, body),) = action.items()
    item = body["Item"] if kind == "Put" else body["Key"]
    return (item["PK"], item["SK"])


def rollback_activation(run: Run, payload: dict[str, Any]) -> dict[str, Any]:
    """The switch backwards when the refresh after it failed: ``ALGO / ACTIVE`` names the previous
    version again (only if it still names this run's). Readers that find a ``SCORE`` item of another
    version than the active one read ``SCORE#<active>`` (every version keeps them). Then the items the
    failed release wrote are put back: each ``SCORE`` item and today's history point that still carry
    the run's version become the previous version's again (``SCORE#<previous>``), or are deleted when
    the profile has no score under it, each on condition that it still carries the run's version (a
    newer release's writes stay)."""
    rolled_back = releases.roll_back_activation(run.run_id, run.version, run.previous, int(time.time()))
    restored = restore_previous(run) if rolled_back and run.previous != run.version else 0
    return {"rolled_back": rolled_back, "restored": restored}


def restore_previous(run: Run) -> int:
    """Put the previous version's ``SCORE`` items and today's history points back over the ones of
    ``run`` (every partition of its snapshot). Returns how many items were replaced or deleted."""
    store = artifact_store()
    if not store.exists(run.layout.manifest):  # no snapshot: nothing of the run reached the table
        return 0
    partitions = partitioned_solve.load_manifest(store, run.layout).partitions
    day = day_of(run.now)
    tbl = table()
    actions: list[dict[str, Any]] = []
    for p in range(partitions):
        if not store.exists(run.layout.part(p, "meta.json")):
            continue
        meta = get_json(store, run.layout.part(p, "meta.json"))
        pids = [pid for pid in meta["profiles"] if not str(pid).startswith("unlinked:")]
        previous = _previous_scores(tbl, pids, run.previous) if run.previous else {}
        for pid in pids:
            score_key = {"PK": keys.profile_pk(pid), "SK": keys.SCORE_SK}
            hist_key = {"PK": keys.profile_pk(pid), "SK": keys.history_sk(day)}
            rec = previous.get(pid)
            if rec is None:
                actions += [{"Delete": {"Key": score_key}}, {"Delete": {"Key": hist_key}}]
                continue
            old_version = meta["previous"].get(pid, {}).get("old_version")
            point = HistoryPoint(
                profile_id=pid,
                day=day,
                score=rec.score,
                algorithm_version=rec.algorithm_version,
                version_changed=old_version is not None and old_version != rec.algorithm_version,
            )
            actions += [{"Put": {"Item": rec.to_item()}}, {"Put": {"Item": point.to_item()}}]
    client = tbl.meta.client

    def apply(action: dict[str, Any]) -> int:
        ((kind, body),) = action.items()
        guard = {
            "TableName": tbl.name,
            "ConditionExpression": "algorithm_version = :failed",
            "ExpressionAttributeValues": {":failed": run.version},
        }
        try:
            if kind == "Put":
                client.put_item(**guard, **body)
            else:
                client.delete_item(**guard, **body)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return 0
            raise
        return 1

    with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
        return sum(pool.map(apply, actions))


def _previous_scores(tbl: Any, profile_ids: list[str], version: str) -> dict[str, ScoreRecord]:
    """``SCORE#<version>`` of the profiles, as active records (BatchGetItem, 100 keys a request)."""
    found: dict[str, ScoreRecord] = {}
    client = tbl.meta.client
    for i in range(0, len(profile_ids), 100):
        request: dict[str, Any] = {
            tbl.name: {
                "Keys": [
                    {"PK": keys.profile_pk(pid), "SK": keys.score_sk(version)}
                    for pid in profile_ids[i : i + 100]
                ]
            }
        }
        for attempt in range(10):
            answer = client.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(tbl.name, []):
                rec = ScoreRecord.from_item(item).model_copy(update={"active": True})
                found[rec.profile_id] = rec
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(5.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
    return found
