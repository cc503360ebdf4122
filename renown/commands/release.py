"""``renown release``: publish an algorithm release to the running local stack, or show a run.

In AWS a release is an EventBridge event ``AlgorithmReleased`` whose rule starts the rescoring state
machine. moto cannot deliver EventBridge events to a state machine, so locally the publisher starts
the execution itself with the same input the rule would pass (the rule's pattern is tested apart).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

STATE_FILE = Path(".renown") / "local.json"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "release",
        help="release an algorithm version on the running local stack, or show the latest run",
        description="Upload the version's parameters, start the rescoring workflow (shadow scores, shift "
        "report, then activation) on the stack that `renown serve` runs, and follow it.",
    )
    parser.add_argument("--version", help="name of the algorithm version, e.g. v2")
    parser.add_argument("--params", type=Path, help="JSON file of parameters (omit for a built-in version)")
    parser.add_argument("--status", action="store_true", help="show the latest run and its shift report")
    parser.add_argument("--no-activate", action="store_true", help="stop after the shadow write and report")
    parser.add_argument("--no-wait", action="store_true", help="start the run and return")
    parser.add_argument(
        "--state", type=Path, default=STATE_FILE, help="where `renown serve` wrote its endpoints"
    )


def _stack(state_file: Path) -> dict[str, Any]:
    if not state_file.exists():
        raise SystemExit(f"error: no running local stack ({state_file} is missing): start it with `make run`")
    state: dict[str, Any] = json.loads(state_file.read_text())
    return state


def _client(state: dict[str, Any], service: str) -> Any:
    import boto3

    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=state["moto_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def load_params(path: Path, version: str) -> dict[str, Any]:
    """Read and validate a parameter file against the core's parameter model."""
    from core.errors import RenownCoreError
    from core.versions import AlgorithmParams

    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"error: {path}: {exc}") from None
    if not isinstance(data, dict):
        raise SystemExit(f"error: {path}: expected a JSON object of parameters")
    data["name"] = version
    try:
        params = AlgorithmParams(**data).validate()
    except (TypeError, RenownCoreError) as exc:
        raise SystemExit(f"error: {path}: {exc}") from None
    return params.to_dict()


def show(sfn: Any, execution_arn: str) -> dict[str, Any]:
    description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
    print(f"run {description['name']}: {description['status']}")
    if description.get("output"):
        print(json.dumps(json.loads(description["output"]), indent=2))
    if description.get("error"):
        print(f"error: {description['error']}: {description.get('cause', '')}")
    return description


def run(args: argparse.Namespace) -> int:
    state = _stack(args.state)
    sfn = _client(state, "stepfunctions")
    if args.status:
        runs = sfn.list_executions(stateMachineArn=state["state_machine_arn"]).get("executions", [])
        if not runs:
            print("no runs yet")
            return 0
        latest = max(runs, key=lambda r: r["startDate"])
        show(sfn, latest["executionArn"])
        return 0
    if not args.version:
        print("error: --version is required (or --status)", file=sys.stderr)
        return 2
    detail: dict[str, Any] = {"version": args.version, "mode": "release", "activate": not args.no_activate}
    if args.params:
        params = load_params(args.params, args.version)
        key = f"releases/{args.version}/params.json"
        _client(state, "s3").put_object(Bucket=state["bucket"], Key=key, Body=json.dumps(params).encode())
        detail["params_key"] = key
    event = {"source": "renown.algorithms", "detail-type": "AlgorithmReleased", "detail": detail}
    started = sfn.start_execution(
        stateMachineArn=state["state_machine_arn"],
        name=f"release-{args.version}-{int(time.time())}",
        input=json.dumps(event),
    )
    print(f"started {started['executionArn']}")
    if args.no_wait:
        return 0
    while True:
        description = sfn.describe_execution(executionArn=started["executionArn"])
        if description["status"] != "RUNNING":
            break
        print(".", end="", flush=True)
        time.sleep(1)
    print()
    final = show(sfn, started["executionArn"])
    return 0 if final["status"] == "SUCCEEDED" else 1
