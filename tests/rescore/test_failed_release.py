"""A release that fails after its switch (in the Refresh, or in the Finish) is rolled back without a
trace in what is served: the API's reads answer the previous version, the ``SCORE`` items and today's
history points are the previous version's again. And a late Refresh (a daily settle overtaken by a
release) writes nothing once ``ALGO / ACTIVE`` names another version."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from functions.api.store import DynamoApiTable
from functions.rescore import activation, in_process
from functions.rescore import run as workflow_run
from functions.shared import keys
from functions.shared.trend import day_of
from renown.local.template import REGION
from tests.conftest import TABLE
from tests.rescore.seed import seed_items, write

NOW = 1_750_000_000.0
PROFILES = [f"p{i:04d}" for i in range(12)]


def items(table: Any, sk: str) -> dict[str, dict[str, Any]]:
    out = {}
    for pid in PROFILES:
        item = table.get_item(Key={"PK": keys.profile_pk(pid), "SK": sk}).get("Item")
        if item is not None:
            out[pid] = item
    return out


def served(pid: str) -> tuple[str, float] | None:
    api = DynamoApiTable(client=boto3.client("dynamodb", region_name=REGION), table_name=TABLE)
    rec = api.get_score(pid)
    return None if rec is None else (rec.algorithm_version, round(rec.score, 6))


@pytest.mark.parametrize(
    "inject",
    [{"task": "refresh", "partition": 1, "times": 9}, {"task": "finish", "times": 9}],
    ids=["after-refresh", "after-finish"],
)
def test_a_failed_release_is_not_served(aws_env: Any, inject: dict[str, Any]) -> None:
    write(aws_env, seed_items(profiles=len(PROFILES), edges=60))
    base = {"now": NOW, "solver": "distributed", "partitions": 2}
    in_process.run_in_process(base | {"version": "v1"}, execution="base")
    before = {pid: served(pid) for pid in PROFILES}
    assert all(v is not None and v[0] == "v1" for v in before.values())
    history_before = items(aws_env, keys.history_sk(day_of(NOW)))

    with pytest.raises(workflow_run.InjectedFailureError):
        in_process.run_in_process(
            base | {"version": "v2", "mode": "release", "inject": inject}, execution="r"
        )

    assert aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK})["Item"]["version"] == "v1"
    assert len(items(aws_env, "SCORE#v2")) == len(before)  # the shadow scores were written
    # what the API serves is the previous version's, exactly as before the release
    assert {pid: served(pid) for pid in PROFILES} == before
    # and the items themselves carry no trace of v2
    assert {
        pid: it["algorithm_version"] for pid, it in items(aws_env, keys.SCORE_SK).items()
    } == dict.fromkeys(before, "v1")
    history = items(aws_env, keys.history_sk(day_of(NOW)))
    assert {pid: it["algorithm_version"] for pid, it in history.items()} == {
        pid: it["algorithm_version"] for pid, it in history_before.items()
    }
    assert {pid: float(it["score"]) for pid, it in history.items()} == pytest.approx(
        {pid: float(it["score"]) for pid, it in history_before.items()}
    )


def test_a_late_settle_refresh_does_not_overwrite_a_newer_release(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(aws_env, seed_items(profiles=len(PROFILES), edges=60))
    base = {"version": "v1", "solver": "distributed", "partitions": 2}
    in_process.run_in_process(base | {"now": NOW}, execution="base")
    scores_before = items(aws_env, keys.SCORE_SK)
    switch = activation.activate

    def overtaken(run: workflow_run.Run, payload: dict[str, Any]) -> dict[str, Any]:
        out = switch(run, payload)  # the settle's own switch (v1 again), then a release takes over
        aws_env.put_item(Item={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK, "version": "v2", "run_id": "newer"})
        return out

    monkeypatch.setattr(activation, "activate", overtaken)
    with pytest.raises(workflow_run.ActivationConflictError):
        in_process.run_in_process(base | {"now": NOW + 86_400}, execution="settle")
    assert aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK})["Item"]["run_id"] == "newer"
    assert items(aws_env, keys.SCORE_SK) == scores_before  # not one item of the settle
    assert not items(aws_env, keys.history_sk(day_of(NOW + 86_400)))
