"""The rescoring state machine (statemachine/rescore.asl.json) on the local stack: moto's interpreter runs
the real ASL, the Distributed Maps read their items from S3, the Lambda tasks run in-process.

Happy path (distributed, shadow write, report, atomic activation), a second run of the same release,
a retried partition, a failing partition, and a failure injected in each step: the active version
stays what it was and the run is marked failed with its error.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from renown.local.stack import LocalStack
from tests.rescore.seed import seed_items, write

NOW = 1_750_000_000.0
pytestmark = pytest.mark.slow


def _table() -> Any:
    from functions.shared.aws import table

    return table()


def _bucket() -> str:
    from functions.shared.settings import get_settings

    return get_settings().artifacts_bucket


def run(stack: LocalStack, payload: dict[str, Any], timeout_s: float = 300) -> dict[str, Any]:
    sfn = stack.moto.client("stepfunctions")
    started = sfn.start_execution(
        stateMachineArn=stack.template.ref("RescoreStateMachine"),
        name=f"test-{int(time.time() * 1000)}",
        input=json.dumps(payload),
    )
    deadline = time.monotonic() + timeout_s
    while True:
        found: dict[str, Any] = sfn.describe_execution(executionArn=started["executionArn"])
        if found["status"] != "RUNNING":
            found["run_id"] = found["name"]
            return found
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.3)


def active_version() -> str | None:
    item = active()
    return None if item is None else str(item["version"])


def active() -> dict[str, Any] | None:
    from functions.shared import keys

    item: dict[str, Any] | None = (
        _table().get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK}).get("Item")
    )
    return item


def run_item(run_id: str) -> dict[str, Any]:
    from functions.shared import keys

    item: dict[str, Any] = _table().get_item(Key={"PK": keys.ALGO_PK, "SK": keys.run_sk(run_id)})["Item"]
    return item


def release(version: str, **extra: Any) -> dict[str, Any]:
    """The event the ``AlgorithmReleased`` rule passes (what ``renown release`` sends)."""
    detail = {"version": version, "mode": "release", "now": NOW, **extra}
    return {"source": "renown.algorithms", "detail-type": "AlgorithmReleased", "detail": detail}


def upload_params(stack: LocalStack, version: str, **changes: Any) -> str:
    from core.versions import get_version

    params = get_version("v2").to_dict() | changes | {"name": version}
    key = f"releases/{version}/params.json"
    stack.moto.client("s3").put_object(Bucket=_bucket(), Key=key, Body=json.dumps(params).encode())
    return key


@pytest.fixture(scope="module")
def seeded(stack: LocalStack) -> Iterator[list[dict[str, Any]]]:
    items = seed_items(profiles=40, edges=300)
    write(_table(), items)
    # a baseline: the active version scored once (single task)
    baseline = run(stack, {"version": "v1", "mode": "settle", "now": NOW, "solver": "single"})
    assert baseline["status"] == "SUCCEEDED", baseline
    yield items


def test_release_distributed_shadow_report_activate(stack: LocalStack, seeded: Any) -> None:
    from functions.shared import keys

    before = active()
    assert before is not None and before["version"] == "v1"
    done = run(stack, release("v2", solver="distributed", partitions=3))
    assert done["status"] == "SUCCEEDED", done.get("cause")
    output = json.loads(done["output"])
    assert output["solver"] == "distributed" and output["partitions"] == 3 and output["iterations"] > 3
    assert active()["version"] == "v2"  # type: ignore[index]
    table = _table()
    # shadow and active scores, history marked with the version change
    shadow = table.get_item(Key={"PK": keys.profile_pk("p0001"), "SK": keys.score_sk("v2")})["Item"]
    live = table.get_item(Key={"PK": keys.profile_pk("p0001"), "SK": keys.SCORE_SK})["Item"]
    assert live["algorithm_version"] == "v2" and live["score"] == shadow["score"]
    assert table.get_item(Key={"PK": keys.profile_pk("p0001"), "SK": keys.score_sk("v1")})["Item"]
    day = time.strftime("%Y-%m-%d", time.gmtime(NOW))
    point = table.get_item(Key={"PK": keys.profile_pk("p0001"), "SK": keys.history_sk(day)})["Item"]
    assert point["version_changed"] is True and point["algorithm_version"] == "v2"
    # the shift report: table item, S3 JSON and PNG
    report = table.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.report_sk("v2")})["Item"]
    body = report["report"]
    assert body["against"] == "v1" and body["compared"] >= 40  # other tests' profiles may be there too
    assert body["up"] + body["down"] + body["same"] == body["compared"]
    assert body["kendall_tau_b"] is not None and -1 <= body["kendall_tau_b"] <= 1
    assert sum(body["delta_histogram"]["counts"]) == body["compared"]
    s3 = stack.moto.client("s3")
    png = s3.get_object(Bucket=_bucket(), Key=report["plot_key"])["Body"].read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert (
        json.loads(s3.get_object(Bucket=_bucket(), Key=report["report_key"])["Body"].read())["version"]
        == "v2"
    )
    movers = body["biggest_gains"] + body["biggest_losses"]
    assert all(m["explanation"] and "signals" in m["explanation"] for m in movers)
    versions = {
        v: table.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.version_sk(v)})["Item"]["status"]
        for v in ("v1", "v2")
    }
    assert versions == {"v1": "retired", "v2": "active"}
    record = run_item(done["run_id"])
    assert record["status"] == "succeeded" and record["summary"]["compared"] == body["compared"]


def test_same_release_again_is_idempotent(stack: LocalStack, seeded: Any) -> None:
    first = run(stack, release("v2", solver="distributed", partitions=3))  # skipped already if v2 is live
    assert first["status"] == "SUCCEEDED" and active_version() == "v2"
    since = active()
    again = run(stack, release("v2", solver="distributed", partitions=3))
    assert again["status"] == "SUCCEEDED"
    assert json.loads(again["output"])["skipped"] is True
    assert active() == since
    assert run_item(again["run_id"])["status"] == "skipped"


def test_retried_partition_still_succeeds(stack: LocalStack, seeded: Any) -> None:
    key = upload_params(stack, "v2r", half_life_days=21.0)
    inject = {"task": "iterate", "partition": 1, "times": 1}
    done = run(stack, release("v2r", params_key=key, solver="distributed", partitions=3, inject=inject))
    assert done["status"] == "SUCCEEDED", done.get("cause")
    assert int(run_item(done["run_id"])["inject_iterate_1"]) >= 2  # failed once, retried
    assert active()["version"] == "v2r"  # type: ignore[index]


def test_failing_partition_fails_the_run_and_keeps_the_active_version(stack: LocalStack, seeded: Any) -> None:
    before = active()
    key = upload_params(stack, "v2f", selectivity_k=2.0)
    inject = {"task": "build", "partition": 2, "times": 99}
    done = run(stack, release("v2f", params_key=key, solver="distributed", partitions=3, inject=inject))
    assert done["status"] == "FAILED"
    assert active() == before
    record = run_item(done["run_id"])
    assert record["status"] == "failed" and record["error"]


# One step of each kind, run on moto's interpreter: the first task (before any run state exists), a Map
# before the switch, the Map and the task after it (the switch is rolled back). That every other step is
# wired to the same paths is checked on the machine's definition (tests/rescore/test_state_machine.py),
# and what each task leaves behind on failure in process (tests/rescore/test_failed_release.py).
@pytest.mark.parametrize("step", ["prepare", "write_shadow", "refresh", "finish"])
def test_failure_in_any_step_leaves_the_active_version(stack: LocalStack, seeded: Any, step: str) -> None:
    before = active_version()
    key = upload_params(stack, "v2x", pair_exponent=0.4)
    inject = {"task": step, "times": 99}
    done = run(stack, release("v2x", params_key=key, solver="single", inject=inject))
    assert done["status"] == "FAILED", step
    assert active_version() == before, step  # after activate/refresh/finish: switched back
    record = run_item(done["run_id"])
    # a task fails with its own error; a Distributed Map item's failure reaches the reduce after it
    # (moto's Map returns null for the item; AWS fails the Map with States.ExceedToleratedFailureThreshold)
    assert record["status"] == "failed" and record["error"] in (
        "InjectedFailureError",
        "PartitionsFailedError",
    ), record


def test_after_failures_the_release_can_run_again(stack: LocalStack, seeded: Any) -> None:
    key = upload_params(stack, "v2x", pair_exponent=0.4)
    done = run(stack, release("v2x", params_key=key, solver="single"))
    assert done["status"] == "SUCCEEDED", done.get("cause")
    assert active()["version"] == "v2x"  # type: ignore[index]


def _state_file(stack: LocalStack, tmp_path: Any) -> Any:
    state = {
        "url": stack.url,
        "moto_endpoint": stack.moto.endpoint,
        "state_machine_arn": stack.template.ref("RescoreStateMachine"),
        "bucket": stack.template.physical["ArtifactsBucket"],
        "table": stack.template.physical["RenownTable"],
    }
    path = tmp_path / "local.json"
    path.write_text(json.dumps(state))
    return path


def test_cli_release_with_params_progress_and_status(
    stack: LocalStack, seeded: Any, tmp_path: Any, capsys: Any
) -> None:
    from core.versions import get_version
    from renown.cli import main

    state = _state_file(stack, tmp_path)
    params = tmp_path / "v2b.json"
    params.write_text(json.dumps(get_version("v2").to_dict() | {"reach_weight": 0.4}))
    rc = main(["release", "--state", str(state), "--version", "v2b", "--params", str(params),
               "--solver", "distributed", "--partitions", "2"])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0, out
    # progress while it runs (the command polls: which passes it sees depends on the machine's speed)
    assert re.search(r"solve: pass \d+", out), out
    assert "shift report: v2b against" in out and "Kendall tau-b" in out
    assert active_version() == "v2b"
    assert main(["release", "--state", str(state), "--status"]) == 0
    status = capsys.readouterr().out
    assert "succeeded (version v2b" in status and "change histogram" in status
    print(out + status)  # shown with -s


def test_cli_approval_waits_then_activates(
    stack: LocalStack, seeded: Any, tmp_path: Any, capsys: Any
) -> None:
    from core.versions import get_version
    from renown.cli import main

    state = _state_file(stack, tmp_path)
    before = active_version()
    params = tmp_path / "v4.json"
    params.write_text(json.dumps(get_version("v1").to_dict() | {"half_life_days": 10.0}))
    rc = main(["release", "--state", str(state), "--version", "v4", "--params", str(params), "--approval"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "waiting for approval" in out
    run_id = out.split("started ", 1)[1].split()[0]
    assert active_version() == before  # nothing switched before the approval
    assert main(["release", "--state", str(state), "--approve", run_id]) == 0
    deadline = time.monotonic() + 240
    while run_item(run_id)["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert active_version() == "v4"
    # the switch backwards: the version active before v4 is released again
    assert main(["release", "--state", str(state), "--rollback"]) == 0
    assert active_version() == before


@pytest.mark.parametrize("step", ["iterate"])  # a pass inside the convergence loop
def test_failure_in_a_distributed_step_leaves_the_active_version(
    stack: LocalStack, seeded: Any, step: str
) -> None:
    before = active_version()
    key = upload_params(stack, "v2d", pair_exponent=0.42)
    inject = {"task": step, "times": 99}
    done = run(stack, release("v2d", params_key=key, solver="distributed", partitions=2, inject=inject))
    assert done["status"] == "FAILED", step
    assert active_version() == before, step
    record = run_item(done["run_id"])
    assert record["status"] == "failed" and record["error"] in (
        "InjectedFailureError",
        "PartitionsFailedError",
    )
