"""``renown release``: publish an algorithm release to the running local stack, follow it, show a run.

In AWS a release is an EventBridge event ``AlgorithmReleased`` whose rule starts the rescoring state
machine. moto cannot deliver EventBridge events to a state machine, so locally the publisher starts
the execution itself with exactly the input the rule passes (the event); the rule's pattern is tested
apart. While the run goes on, its step and progress are read from its ``ALGO / RUN#<id>`` item.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

STATE_FILE = Path(".renown") / "local.json"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "release",
        help="release an algorithm version on the running local stack, or show the latest run",
        description="Upload the version's parameters, start the rescoring workflow (shadow scores, shift "
        "report, then activation) on the stack that `renown serve` runs, and follow it.",
    )
    parser.add_argument("--version", help="name of the algorithm version, e.g. v2")
    parser.add_argument("--params", type=Path, help="JSON file of parameters (omit for a built-in version)")
    parser.add_argument(
        "--status",
        nargs="?",
        const="latest",
        metavar="RUN",
        help="show a run (default the latest) and its report",
    )
    parser.add_argument("--no-activate", action="store_true", help="stop after the shadow write and report")
    parser.add_argument("--approval", action="store_true", help="wait for --approve before activating")
    parser.add_argument("--approve", metavar="RUN", help="approve a run waiting for approval")
    parser.add_argument("--reject", metavar="RUN", help="reject a run waiting for approval")
    parser.add_argument("--settle", action="store_true", help="a settle run (what the daily schedule starts)")
    parser.add_argument(
        "--rollback",
        action="store_true",
        help="release the version active before the current one again (recomputed, reported, switched)",
    )
    parser.add_argument("--solver", choices=["auto", "single", "distributed"], default="auto")
    parser.add_argument("--partitions", type=int, help="partitions of the distributed solve")
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


def _table(state: dict[str, Any]) -> Any:
    import boto3

    resource = boto3.resource(  # type: ignore[call-overload]
        "dynamodb",
        endpoint_url=state["moto_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return resource.Table(state.get("table", "renown"))


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
    for name in ("type_weights", "amplification_types"):
        if isinstance(data.get(name), list):
            data[name] = tuple(data[name])
    try:
        params = AlgorithmParams(**data).validate()
    except (TypeError, RenownCoreError) as exc:
        raise SystemExit(f"error: {path}: {exc}") from None
    return params.to_dict()


def event_for(version: str, **detail: Any) -> dict[str, Any]:
    """The EventBridge event of a release (what the ``AlgorithmReleased`` rule hands the state machine).

    Examples
    --------
    >>> event_for("v2", mode="release")["detail"]
    {'version': 'v2', 'mode': 'release'}
    """
    return {
        "source": "renown.algorithms",
        "detail-type": "AlgorithmReleased",
        "detail": {"version": version, **detail},
    }


# --- showing runs ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def runs(table: Any) -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key

    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq("ALGO") & Key("SK").begins_with("RUN#")}
    while True:
        page = table.query(**kwargs)
        items += [_plain(i) for i in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i.get("started_at", 0), i["run_id"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def format_report(report: dict[str, Any]) -> list[str]:
    """Human lines of a shift report."""
    r = report
    lines = [
        f"shift report: {report.get('version')} against {report.get('against') or '(no active version)'}",
        f"  profiles {report.get('profiles')}, compared {report.get('compared')}: "
        f"{report.get('up')} up, {report.get('down')} down, {report.get('same')} unchanged; "
        f"mean change {report.get('mean_change'):+.2f}, mean |change| {report.get('mean_abs_change'):.2f}, "
        f"sd {r.get('sd_change'):.2f}; moved >= 5 points: {r.get('moved_5')}, >= 10: {r.get('moved_10')}",
        f"  rank stability: Kendall tau-b {r.get('kendall_tau_b')} (sample {r.get('kendall_sample')}), "
        f"top-k overlap {report.get('top_k_overlap')}",
    ]
    hist = report.get("delta_histogram") or {}
    counts, edges = hist.get("counts", []), hist.get("edges", [])
    if counts and max(counts) > 0:
        lines.append("  change histogram (points):")
        top = max(counts)
        for i, c in enumerate(counts):
            if c:
                bar = "#" * max(1, round(40 * c / top))
                lines.append(f"    {edges[i]:+6.1f} .. {edges[i + 1]:+6.1f}  {c:>8}  {bar}")
    for title, key in (("biggest gains", "biggest_gains"), ("biggest losses", "biggest_losses")):
        movers = report.get(key) or []
        if movers:
            lines.append(f"  {title}:")
        for m in movers:
            why = m.get("explanation") or {}
            signals = ", ".join(f"{k} {v:.1f}" for k, v in (why.get("signals") or {}).items())
            engagers = ", ".join(e["account"] for e in why.get("top_engagers") or [])
            lines.append(
                f"    {m['name'] or m['profile_id']}: {m['old']:.2f} -> {m['new']:.2f} ({m['change']:+.2f})"
                f"  [{signals}]" + (f" top engagers: {engagers}" if engagers else "")
            )
    return lines


def show_run(table: Any, run: dict[str, Any]) -> None:
    print(
        f"run {run['run_id']}: {run['status']} (version {run['version']}, mode {run['mode']}, "
        f"solver {run.get('solver') or '?'}, partitions {run.get('partitions') or '?'})"
    )
    print(f"  step {run.get('step')}: {run.get('progress', '')}")
    if run.get("previous_version"):
        print(f"  active when it started: {run['previous_version']}")
    if run.get("error"):
        print(f"  error: {run['error']}: {run.get('cause', '')}")
    if run.get("report_key"):
        item = table.get_item(Key={"PK": "ALGO", "SK": f"REPORT#{run['version']}"}).get("Item")
        if item and item.get("run_id") == run["run_id"]:
            for line in format_report(_plain(item["report"])):
                print(line)
            print(f"  report s3://.../{item['report_key']}  plot s3://.../{item['plot_key']}")


def follow(sfn: Any, table: Any, execution_arn: str, run_id: str) -> dict[str, Any]:
    """Print the run's step and progress as they change, until the execution ends."""
    last = ""
    while True:
        description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        item = table.get_item(Key={"PK": "ALGO", "SK": f"RUN#{run_id}"}).get("Item") or {}
        line = f"{item.get('step', 'starting')}: {item.get('progress', '')}".rstrip(": ")
        if line != last:
            print(f"  [{time.strftime('%H:%M:%S')}] {line}", flush=True)
            last = line
        if item.get("status") == "awaiting_approval" and description["status"] == "RUNNING":
            print(f"  waiting for approval: renown release --approve {run_id}  (or --reject)", flush=True)
            return description
        if description["status"] in TERMINAL:
            return description
        time.sleep(0.5)


def run(args: argparse.Namespace) -> int:
    state = _stack(args.state)
    sfn = _client(state, "stepfunctions")
    table = _table(state)
    if args.approve or args.reject:
        run_id = args.approve or args.reject
        item = table.get_item(Key={"PK": "ALGO", "SK": f"RUN#{run_id}"}).get("Item")
        if not item or not item.get("approval_token"):
            print(f"error: run {run_id} is not waiting for approval", file=sys.stderr)
            return 2
        if args.approve:
            sfn.send_task_success(taskToken=item["approval_token"], output=json.dumps({"approved": True}))
            print(f"approved {run_id}")
        else:
            sfn.send_task_failure(
                taskToken=item["approval_token"], error="Rejected", cause="rejected by operator"
            )
            print(f"rejected {run_id}")
        return 0
    if args.status:
        found = runs(table)
        if args.status != "latest":
            found = [r for r in found if r["run_id"] == args.status]
        if not found:
            print("no runs yet")
            return 0
        show_run(table, found[-1])
        return 0
    if args.rollback:
        current = table.get_item(Key={"PK": "ALGO", "SK": "ACTIVE"}).get("Item") or {}
        if not current.get("previous"):
            print("error: no previous version to roll back to", file=sys.stderr)
            return 2
        args.version = str(current["previous"])
        print(f"rolling back from {current.get('version')} to {args.version}")
    if not args.version and not args.settle:
        print("error: --version is required (or --status, --settle)", file=sys.stderr)
        return 2
    detail: dict[str, Any] = {
        "mode": "settle" if args.settle else "release",
        "activate": not args.no_activate,
        "approval": bool(args.approval),
        "solver": args.solver,
    }
    if args.partitions:
        detail["partitions"] = args.partitions
    if args.params:
        if not args.version:
            print("error: --params needs --version", file=sys.stderr)
            return 2
        params = load_params(args.params, args.version)
        key = f"releases/{args.version}/params.json"
        _client(state, "s3").put_object(Bucket=state["bucket"], Key=key, Body=json.dumps(params).encode())
        detail["params_key"] = key
    name = f"release-{args.version or 'settle'}-{int(time.time() * 1000)}"
    event = event_for(args.version, **detail) if args.version else {"mode": "settle"} | detail
    started = sfn.start_execution(
        stateMachineArn=state["state_machine_arn"], name=name, input=json.dumps(event)
    )
    print(f"started {name}")
    if args.no_wait:
        return 0
    final = follow(sfn, table, started["executionArn"], name)
    item = table.get_item(Key={"PK": "ALGO", "SK": f"RUN#{name}"}).get("Item")
    if item:
        show_run(table, _plain(item))
    if final["status"] == "FAILED":
        print(f"failed: {final.get('error')}: {final.get('cause', '')[:500]}")
    return 0 if final["status"] in ("SUCCEEDED", "RUNNING") else 1
