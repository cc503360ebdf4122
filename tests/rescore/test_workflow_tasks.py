"""The workflow's tasks over moto in-process, driven in the state machine's order (the ASL itself runs
in tests/stack/test_rescore_workflow_run.py)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from functions.rescore import run as workflow_run
from functions.rescore import tasks
from functions.shared import keys
from tests.conftest import LambdaContext
from tests.rescore.seed import seed_items, write

NOW = 1_750_000_000.0


CONTEXT = LambdaContext(function_name="rescore", memory_limit_in_mb=3008, remaining_ms=900_000)


def call(name: str, payload: dict[str, Any]) -> Any:
    return tasks.handler({"task": name, "input": payload}, CONTEXT)  # type: ignore[arg-type]


def drive(request: dict[str, Any], execution: str) -> dict[str, Any]:
    """The happy path of the ASL, state by state."""
    state: dict[str, Any] = dict(request)
    state["run"] = call("prepare", {"request": request, "execution": execution})
    if state["run"]["skip"]:
        return dict(call("finish", {"state": state}))
    run = {"run": state["run"]}
    state["snapshot"] = snap = call("snapshot", run)
    parts = range(snap["partitions"])
    if snap["solver"] == "single":
        state["solve"] = call("solve_single", run)
    else:
        builds = [call("build", run | {"partition": p}) for p in parts]
        solve = call("setup_scalars", run | {"builds": builds})
        setups = [call("setup", run | {"partition": p, "solve": solve}) for p in parts]
        while not solve["done"]:
            passes = [call("iterate", run | {"partition": p, "solve": solve}) for p in parts]
            solve = call("converge", run | {"solve": solve, "passes": passes, "setups": setups})
        state["components"] = [call("components", run | {"partition": p, "solve": solve}) for p in parts]
        state["solve"] = solve
    state["calibration"] = call("calibrate", run | {"solve": state["solve"], "state": state})
    shadow = [call("write_shadow", run | {"partition": p, "solve": state["solve"]}) for p in parts]
    state["report"] = call("report", run | {"snapshot": snap, "solve": state["solve"], "shadow": shadow})
    if state["run"]["activate"]:
        state["activation"] = call("activate", run)
        state["refresh"] = [call("refresh", run | {"partition": p}) for p in parts]
    return dict(call("finish", {"state": state}))


def score(table: Any, profile_id: str, sk: str = keys.SCORE_SK) -> float:
    return float(table.get_item(Key={"PK": keys.profile_pk(profile_id), "SK": sk})["Item"]["score"])


def test_single_and_distributed_runs_give_the_same_scores(aws_env: Any) -> None:
    write(aws_env, seed_items())
    out = drive({"version": "v1", "mode": "settle", "now": NOW, "solver": "single"}, "a")
    assert out["solver"] == "single" and out["activated"]
    single = {f"p{i:04d}": score(aws_env, f"p{i:04d}") for i in range(40)}
    out = drive(
        {"version": "v1", "mode": "settle", "now": NOW, "solver": "distributed", "partitions": 4}, "b"
    )
    assert out["solver"] == "distributed" and out["partitions"] == 4
    for pid, value in single.items():
        assert abs(score(aws_env, pid) - value) <= 0.01
    item = aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK})["Item"]
    assert item["version"] == "v1" and item["run_id"] == "b"
    # the updater's state is written for the version
    rank = aws_env.get_item(Key={"PK": keys.account_pk("twitter", "1"), "SK": "RANK#v1"})["Item"]
    assert float(rank["x"]) > 0
    assert aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": "INCR#v1"})["Item"]["tele_unit"] > 0


def test_release_report_activation_and_idempotency(aws_env: Any) -> None:
    write(aws_env, seed_items())
    drive({"version": "v1", "now": NOW}, "base")
    event = {
        "source": "renown.algorithms",
        "detail-type": "AlgorithmReleased",
        "detail": {"version": "v2", "mode": "release", "now": NOW},
    }
    out = drive(event, "rel")
    assert out["report"]["compared"] == 40 and out["activated"]
    report = aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.report_sk("v2")})["Item"]
    assert report["against"] == "v1" and report["run_id"] == "rel"
    png = boto3.client("s3").get_object(Bucket="renown-artifacts", Key=report["plot_key"])["Body"].read()
    assert png.startswith(b"\x89PNG")
    hist = aws_env.get_item(Key={"PK": keys.profile_pk("p0003"), "SK": keys.history_sk("2025-06-15")})["Item"]
    assert hist["version_changed"] is True
    again = drive(event, "again")
    assert again["skipped"] is True
    assert (
        aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.run_sk("again")})["Item"]["status"] == "skipped"
    )


def test_a_running_release_cannot_start_twice(aws_env: Any) -> None:
    write(aws_env, seed_items(profiles=10, edges=40))
    request = {"version": "v2", "mode": "release", "now": NOW}
    call("prepare", {"request": request, "execution": "one"})
    with pytest.raises(workflow_run.ReleaseConflictError):
        call("prepare", {"request": request, "execution": "two"})
    # once the first one failed, the release may run again
    first = workflow_run.Run(
        run_id="one",
        version="v2",
        mode="release",
        digest=_digest("v2"),
        prefix="runs/one",
        now=NOW,
        activate=True,
    ).model_dump()
    call("mark_failed", {"state": {"run": first, "error": {"Error": "Boom", "Cause": "{}"}}})
    assert call("prepare", {"request": request, "execution": "four"})["skip"] is False


def _digest(version: str) -> str:
    from core.versions import get_version, params_digest

    return params_digest(get_version(version))


def test_bad_parameters_and_taken_names_are_input_errors(aws_env: Any) -> None:
    s3 = boto3.client("s3")
    s3.put_object(
        Bucket="renown-artifacts", Key="releases/bad.json", Body=json.dumps({"damping": 2.0}).encode()
    )
    with pytest.raises(workflow_run.TaskInputError):
        call("prepare", {"request": {"version": "vb", "mode": "release", "params_key": "releases/bad.json"}})
    with pytest.raises(workflow_run.TaskInputError):
        call("prepare", {"request": {"version": "nope", "mode": "release"}})
    with pytest.raises(workflow_run.TaskInputError):
        call("prepare", {"request": {"version": "vb", "params_key": "releases/missing.json"}})
    write(aws_env, seed_items(profiles=10, edges=40))
    drive({"version": "v1", "now": NOW}, "base")
    from core.versions import get_version

    other = get_version("v1").to_dict() | {"damping": 0.8}
    s3.put_object(Bucket="renown-artifacts", Key="releases/v1.json", Body=json.dumps(other).encode())
    with pytest.raises(workflow_run.ReleaseConflictError):
        call("prepare", {"request": {"version": "v1", "mode": "release", "params_key": "releases/v1.json"}})


def test_activation_is_conditional_and_rollback_restores(aws_env: Any) -> None:
    write(aws_env, seed_items(profiles=10, edges=40))
    drive({"version": "v1", "now": NOW}, "base")
    run = call("prepare", {"request": {"version": "v2", "mode": "release", "now": NOW}, "execution": "r"})
    # someone else switched the active version meanwhile
    aws_env.put_item(Item={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK, "version": "other"})
    with pytest.raises(workflow_run.ActivationConflictError):
        call("activate", {"run": run})
    assert aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK})["Item"]["version"] == "other"
    aws_env.put_item(Item={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK, "version": "v1"})
    call("activate", {"run": run})
    assert aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK})["Item"]["version"] == "v2"
    assert call("rollback_activation", {"state": {"run": run}})["rolled_back"] is True
    assert aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK})["Item"]["version"] == "v1"
    status = aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.version_sk("v1")})["Item"]["status"]
    assert status == "active"


def test_injection_only_on_the_local_stage(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.shared.settings import get_settings

    run = call("prepare", {"request": {"version": "v1", "now": NOW}, "execution": "i"})
    model = workflow_run.Run.model_validate(run | {"inject": {"task": "snapshot", "times": 1}})
    with pytest.raises(workflow_run.InjectedFailureError):
        workflow_run.maybe_fail(model, "snapshot")
    workflow_run.maybe_fail(model, "snapshot")  # once only
    monkeypatch.setenv("RENOWN_STAGE", "prod")
    get_settings.cache_clear()
    workflow_run.maybe_fail(model.model_copy(update={"inject": {"task": "snapshot", "times": 9}}), "snapshot")


def test_unknown_task_is_an_input_error(aws_env: Any) -> None:
    with pytest.raises(workflow_run.TaskInputError):
        call("nope", {})


def test_releasing_an_earlier_version_again_rolls_back(aws_env: Any) -> None:
    from core.versions import get_version

    write(aws_env, seed_items(profiles=12, edges=60))
    drive({"version": "v1", "now": NOW}, "base")
    drive({"version": "v2", "mode": "release", "now": NOW}, "r2")
    custom = get_version("v2").to_dict() | {"half_life_days": 30.0}
    boto3.client("s3").put_object(
        Bucket="renown-artifacts", Key="releases/v2b.json", Body=json.dumps(custom).encode()
    )
    drive({"version": "v2b", "mode": "release", "now": NOW, "params_key": "releases/v2b.json"}, "r2b")

    def active() -> str:
        return str(aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK})["Item"]["version"])

    assert active() == "v2b"
    back = drive({"version": "v2", "mode": "release", "now": NOW}, "back")  # succeeded before, not active now
    assert not back.get("skipped") and active() == "v2"
    # a custom version comes back with the parameters it was published with
    again = drive({"version": "v2b", "mode": "release", "now": NOW}, "again")
    assert not again.get("skipped") and active() == "v2b"
    assert drive({"version": "v2b", "mode": "release", "now": NOW}, "same")["skipped"] is True


def _influence_of(table: Any, version: str, profiles: int = 24) -> dict[str, dict[str, Any]]:
    out = {}
    for i in range(profiles):
        item = table.get_item(Key={"PK": keys.profile_pk(f"p{i:04d}"), "SK": keys.explain_sk(version)}).get(
            "Item"
        )
        if item is None:
            continue
        data = (
            json.loads(item["explanation"]) if isinstance(item["explanation"], str) else item["explanation"]
        )
        assert "rules" in data
        out[f"p{i:04d}"] = {
            side: {e["profile_id"]: (float(e["weight"]), e["interactions"]) for e in data.get(side, [])}
            for side in ("influencers", "influencees")
        }
    return out


def test_v3_single_and_distributed_give_the_same_scores_and_influence(aws_env: Any) -> None:
    write(aws_env, seed_items(profiles=24, edges=140))
    out = drive({"version": "v3", "mode": "settle", "now": NOW, "solver": "single"}, "v3")
    assert out["solver"] == "single" and out["activated"]
    single = {f"p{i:04d}": score(aws_env, f"p{i:04d}") for i in range(24)}
    # the version's own rules are applied to the stored scores: profiles without engagement in the band
    assert min(single.values()) < 19.9
    single_links = _influence_of(aws_env, "v3")
    linked = 0
    for sides in single_links.values():
        for links in sides.values():
            for pid, (weight, interactions) in links.items():
                assert pid.startswith("p") and weight > 0 and interactions
                linked += 1
    assert linked > 0
    out = drive(
        {"version": "v3", "mode": "settle", "now": NOW, "solver": "distributed", "partitions": 3}, "v3d"
    )
    assert out["solver"] == "distributed" and out["partitions"] == 3 and out["activated"]
    for pid, value in single.items():
        assert abs(score(aws_env, pid) - value) <= 0.01
    distributed_links = _influence_of(aws_env, "v3")
    assert set(distributed_links) == set(single_links)
    for pid, sides in single_links.items():
        for side, links in sides.items():
            got = distributed_links[pid][side]
            assert set(got) == set(links), (pid, side)
            for other, (weight, interactions) in links.items():
                assert abs(got[other][0] - weight) <= 0.01 and got[other][1] == interactions
    # the score updater's state and population constants of the pass
    rank = aws_env.get_item(Key={"PK": keys.account_pk("twitter", "1"), "SK": "RANK#v3"})["Item"]
    assert float(rank["x"]) >= 0 and "engagers" in rank
    incr = aws_env.get_item(Key={"PK": keys.ALGO_PK, "SK": "INCR#v3"})["Item"]
    assert "cap" in incr and "timed" in incr
