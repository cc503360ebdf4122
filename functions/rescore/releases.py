"""Data access of releases and runs: the items under ``ALGO`` the workflow reads and writes.

``ALGO / ACTIVE`` (the version users see) changes only through :func:`activate_version` and
:func:`roll_back_activation`, two uses of one conditional transaction (:func:`_switch`). The other
items: ``VERSION#<v>`` (parameters, calibration table, status), ``RELEASE#<v>#<digest>`` (the claim that
makes a release idempotent), ``RUN#<id>`` (status, step, progress, outcome), ``REPORT#<v>`` (the shift
report) and ``INCR#<v>`` (the score updater's population constants).
"""

from __future__ import annotations

import json
from typing import Any

from functions.rescore.run import ReleaseConflictError, table
from functions.shared import keys
from functions.shared.rank_state import population_item
from functions.shared.records import ReleaseRecord, RunRecord, ShiftReportRecord, VersionRecord, _to_dynamo


def active_item() -> dict[str, Any] | None:
    """``ALGO / ACTIVE`` (consistent read), or None before the first activation."""
    item: dict[str, Any] | None = (
        table().get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK}, ConsistentRead=True).get("Item")
    )
    return item


def version_item(version: str) -> dict[str, Any] | None:
    """``ALGO / VERSION#<version>``, or None for a version never published."""
    item: dict[str, Any] | None = (
        table().get_item(Key={"PK": keys.ALGO_PK, "SK": keys.version_sk(version)}).get("Item")
    )
    return item


def stored_params(version: str) -> dict[str, Any] | None:
    """The parameters a version was published with (``VERSION#<v>``'s ``params``), if any."""
    item = version_item(version)
    if item and isinstance(item.get("params"), str):
        found: dict[str, Any] = json.loads(item["params"])
        return found
    return None


def put_version(record: VersionRecord, params: dict[str, Any], run_id: str) -> None:
    """Record a version with the parameters and the run that computed its calibration table."""
    table().put_item(Item=record.to_item() | {"params": json.dumps(params), "run_id": run_id})


def set_version_report(version: str, report_key: str) -> None:
    table().update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.version_sk(version)},
        UpdateExpression="SET report_key = :r",
        ExpressionAttributeValues={":r": report_key},
    )


def put_population(
    version: str,
    now: float,
    tele_unit: float,
    accounts: int,
    beta: float,
    integrity_state: dict[str, Any] | None = None,
) -> None:
    """The score updater's population constants of the version (``INCR#<version>``); an integrity
    version adds the pass's contribution ``cap`` and whether its times were a history (``timed``)."""
    table().put_item(Item=population_item(version, now, tele_unit, accounts, beta, integrity_state))


def put_shift_report(record: ShiftReportRecord) -> None:
    table().put_item(Item=record.to_item())


# --- releases and runs ---------------------------------------------------------------------------


def release_claim(version: str, digest: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        table()
        .get_item(Key={"PK": keys.ALGO_PK, "SK": keys.release_sk(version, digest)}, ConsistentRead=True)
        .get("Item")
    )
    return item


def claim_release(version: str, digest: str, run_id: str, now: float) -> None:
    """Claim a release for a run, unless another run holds it (:class:`ReleaseConflictError`)."""
    tbl = table()
    try:
        tbl.put_item(
            Item=ReleaseRecord(
                version=version, params_digest=digest, status="running", run_id=run_id, updated_at=int(now)
            ).to_item(),
            ConditionExpression="attribute_not_exists(PK) OR #s IN (:failed, :succeeded)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":failed": "failed", ":succeeded": "succeeded"},
        )
    except tbl.meta.client.exceptions.ConditionalCheckFailedException:
        raise ReleaseConflictError(f"release {version} ({digest[:12]}) is already running") from None


def put_release(version: str, digest: str, status: str, run_id: str, now: float) -> None:
    """The release's outcome (``succeeded`` or ``failed``: either lets it run again)."""
    table().put_item(
        Item=ReleaseRecord(
            version=version, params_digest=digest, status=status, run_id=run_id, updated_at=int(now)
        ).to_item()
    )


def put_run(record: RunRecord) -> None:
    table().put_item(Item=record.to_item())


def set_run_fields(run_id: str, fields: dict[str, Any]) -> None:
    """``SET`` the given attributes of ``RUN#<run_id>`` (names and values escaped)."""
    names = {f"#a{i}": name for i, name in enumerate(fields)}
    values = {f":v{i}": _to_dynamo(value) for i, value in enumerate(fields.values())}
    table().update_item(
        Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run_id)},
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(fields))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


# --- the switch ------------------------------------------------------------------------------------


def activate_version(run_id: str, version: str, previous: str | None, now: int) -> bool:
    """Make ``version`` active, only if ``ALGO / ACTIVE`` still names ``previous`` (None: no active
    version yet); ``version`` becomes ``active``, ``previous`` ``retired``. False if it changed."""
    active: dict[str, Any] = {"version": version, "since": now, "run_id": run_id}
    if previous:
        active["previous"] = previous
    statuses: list[tuple[str, str, int | None]] = [(version, "active", now)]
    if previous and previous != version:
        statuses.append((previous, "retired", None))
    if previous is None:
        return _switch(active, "attribute_not_exists(PK)", {}, statuses)
    return _switch(active, "version = :prev", {":prev": previous}, statuses)


def roll_back_activation(run_id: str, version: str, previous: str | None, now: int) -> bool:
    """Undo :func:`activate_version` of run ``run_id``, only if ``ALGO / ACTIVE`` is still its own:
    ``previous`` active again (or no active version), ``version`` back to ``shadow``. False if not."""
    active = {"version": previous, "since": now, "rolled_back": run_id} if previous else None
    statuses: list[tuple[str, str, int | None]] = []
    if previous and previous != version:
        statuses.append((previous, "active", None))
    if previous != version:
        statuses.append((version, "shadow", None))
    return _switch(active, "run_id = :r", {":r": run_id}, statuses)


def _switch(
    active: dict[str, Any] | None,
    condition: str,
    values: dict[str, Any],
    statuses: list[tuple[str, str, int | None]],
) -> bool:
    """One transaction: put (or, with ``active`` None, delete) ``ALGO / ACTIVE`` under ``condition``
    and set the status (and ``activated_at``) of versions. Returns False when the condition failed."""
    tbl = table()
    client = tbl.meta.client
    key = {"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK}
    guard: dict[str, Any] = {"TableName": tbl.name, "ConditionExpression": condition}
    if values:
        guard["ExpressionAttributeValues"] = values
    actions: list[dict[str, Any]] = [
        {"Put": guard | {"Item": key | active}} if active is not None else {"Delete": guard | {"Key": key}}
    ]
    for version, status, activated_at in statuses:
        update: dict[str, Any] = {
            "TableName": tbl.name,
            "Key": {"PK": keys.ALGO_PK, "SK": keys.version_sk(version)},
            "UpdateExpression": "SET #s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": status},
        }
        if activated_at is not None:
            update["UpdateExpression"] += ", activated_at = :t"
            update["ExpressionAttributeValues"][":t"] = activated_at
        actions.append({"Update": update})
    try:
        client.transact_write_items(TransactItems=actions)
    except client.exceptions.TransactionCanceledException:
        return False
    return True
