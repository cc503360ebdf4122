"""Cold start of every function, laid out as Lambda lays it out: numbers to report, no asserts.

Each function runs in a fresh process of the runtime's interpreter (``python3.12`` when this machine
has one, as the layer build finds it; else this one) with the built layers merged under ``/opt/python``
(a symlink to a temporary directory, so that paths, and numba's cache lookup, are those of Lambda), the
function code as ``/var/task`` (the working directory, first on ``sys.path``), both mounted read-only
when this process may bind-mount (Lambda's are), boto3 as the runtime's (a compiled copy of this
virtualenv's: the runtime ships its SDK with bytecode), no bytecode writes, and the template's
environment pointed at a moto server. It times the import of the handler module and the first event:
a REST API request, a signed webhook, the queued delivery it produced, the table stream records that
produced, a pull with an empty feed (no network here), and a full rescoring run, whose numba activity
it counts (``NUMBA_DEBUG_CACHE``: cache data loaded, and saved, which is what a compile leaves).

The layers and the function code are built for that interpreter (``make -f layers/Makefile build``,
``functions/Makefile``, ``PYVER`` of the interpreter) with bytecode and the numba cache. Run as root (it
creates ``/opt/python`` and ``/opt/renown`` and removes them)::

    .venv/bin/python -m tests.deploy.measure_cold_start [--python PATH] [--layers DIR] [--no-bytecode]
        [--compile-contrast]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.deploy.lambda_layout import (
    LAYER_DIRS,
    ROOT,
    build_function,
    build_layers,
    functions_and_layers,
    runtime_python,
)

RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
OPT_LINKS = ("python", "renown")

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import importlib
spec = json.loads(sys.argv[1])
module_name, _, attr = spec["handler"].rpartition(".")
module = importlib.import_module(module_name)
handler = getattr(module, attr)
t1 = time.perf_counter()

class Context:
    function_name = spec["name"]; function_version = "$LATEST"; memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + spec["name"]
    aws_request_id = "measure-1"; log_group_name = "/aws/lambda/x"; log_stream_name = "x"
    def get_remaining_time_in_millis(self): return 60_000

kwargs = {}
if spec["name"] == "PullSourcesFunction":
    kwargs["fetcher"] = lambda cursor, limit: iter(())  # no network here: an empty feed
result = handler(spec["event"], Context(), **kwargs)
t2 = time.perf_counter()
jit = {"hits": 0, "misses": 0}
if "numba" in sys.modules:
    from numba.core.registry import CPUDispatcher
    for name, mod in list(sys.modules.items()):
        if name.startswith("core."):
            for value in vars(mod).values():
                if isinstance(value, CPUDispatcher):
                    jit["hits"] += sum(value.stats.cache_hits.values())
                    jit["misses"] += sum(value.stats.cache_misses.values())
heavy = sorted(m for m in ("numba", "numpy", "llvmlite", "fastapi", "pydantic", "boto3") if m in sys.modules)
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "jit": jit,
                  "import_s": t1 - t0, "first_event_s": t2 - t1, "modules": heavy,
                  "result": json.loads(json.dumps(result, default=str))[:1] if isinstance(result, list) else
                  {k: v for k, v in (result or {}).items() if k in ("statusCode", "batchItemFailures",
                   "profiles", "version", "source", "lines")}}))
"""


def _api_event(path: str, key: str | None = None) -> dict[str, Any]:
    headers = {"accept": "application/json", "host": "api.example"}
    if key:
        headers["x-api-key"] = key
    return {
        "resource": "/v1/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/v1/{proxy+}",
            "httpMethod": "GET",
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "r1",
            "identity": {"sourceIp": "127.0.0.1", "apiKey": key},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _webhook_event(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "resource": "/webhooks/{network}",
        "path": "/webhooks/twitter",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "pathParameters": {"network": "twitter"},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": {"stage": "prod", "requestId": "w1", "identity": {"sourceIp": "127.0.0.1"}},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


class Layout:
    """``/opt/python`` and ``/opt/renown`` as links into a temporary directory, removed on exit; the
    layers and the function code read-only while it lasts (bind mounts) when this process may mount."""

    def __init__(self, layers: Path, task: Path, work: Path, python: str, bytecode: bool = True) -> None:
        self.work = work
        self.task = task
        self.python = python
        opt = work / "opt"
        for subdir in LAYER_DIRS.values():  # Lambda unpacks every layer into /opt, in order
            subprocess.run(["cp", "-al", f"{layers / subdir}/.", str(opt)], check=True)
        self.opt = opt
        if not bytecode:
            for pyc in [*opt.rglob("*.pyc"), *task.rglob("*.pyc")]:
                pyc.unlink()
        # the runtime's SDK, with bytecode for its interpreter as the runtime ships it
        self.sdk = work / "runtime"
        self.sdk.mkdir()
        site = Path(str(__import__("boto3").__file__)).parents[1]
        for name in RUNTIME_SDK:
            source = site / name
            if source.is_dir():
                shutil.copytree(source, self.sdk / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, self.sdk / name)
        if bytecode:
            compile_all = [python, "-s", "-S", "-m", "compileall", "-q", "-j", "0", str(self.sdk)]
            subprocess.run(compile_all, check=True, stdout=subprocess.DEVNULL)
        self.read_only: list[Path] = []

    def __enter__(self) -> Layout:
        for name in OPT_LINKS:
            link = Path("/opt") / name
            if link.exists() or link.is_symlink():
                raise SystemExit(f"{link} exists: not touching it")
        for name in OPT_LINKS:
            if (self.opt / name).exists():
                (Path("/opt") / name).symlink_to(self.opt / name)
        for path in (self.opt, self.task):
            bind = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True)
            if bind.returncode != 0:
                break
            self.read_only.append(path)
            subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
        return self

    def __exit__(self, *exc: object) -> None:
        for path in reversed(self.read_only):
            subprocess.run(["umount", str(path)], check=False)
        for name in OPT_LINKS:
            link = Path("/opt") / name
            if link.is_symlink():
                link.unlink()


def run_function(
    name: str,
    handler: str,
    event: Any,
    env: dict[str, str],
    layout: Layout,
) -> dict[str, Any]:
    """One cold start: a fresh interpreter, Lambda's paths, the template's environment."""
    child_env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(layout.task), "/opt/python", str(layout.sdk)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(layout.work),
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_REGION": "us-east-1",
        "NUMBA_DEBUG_CACHE": "1",
        # Lambda's /tmp is empty at a cold start: where use_shipped_cache() copies the cache to
        "NUMBA_CACHE_DIR": tempfile.mkdtemp(prefix="tmp-numba-", dir=layout.work),
        **env,
    }
    spec = json.dumps({"name": name, "handler": handler, "event": event})
    start = time.perf_counter()
    proc = subprocess.run(
        [layout.python, "-s", "-S", "-c", CHILD, spec],
        cwd=layout.task,
        env=child_env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-3:], "wall_s": wall}
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = wall
    logs = proc.stdout.strip().splitlines()[:-1] + proc.stderr.strip().splitlines()
    out["numba_cache"] = {
        "loaded": sum(line.startswith("[cache] data loaded") for line in logs),
        "saved": sum(line.startswith("[cache] data saved") for line in logs),
    }
    out["log_tail"] = [line[:600] for line in logs if "rror" in line or "xception" in line][-3:]
    if os.environ.get("RENOWN_MEASURE_LOGS"):
        print(f"--- {name}\n" + "\n".join(logs), file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", help="the functions' interpreter (default: python3.12, else this one)")
    parser.add_argument("--layers", type=Path, help="layers built for that Python (default: build them)")
    parser.add_argument("--no-bytecode", action="store_true", help="drop the shipped .pyc files first")
    parser.add_argument(
        "--compile-contrast",
        action="store_true",
        help="also run the rescoring task with an empty numba cache (what the shipped cache saves)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="cold starts of each function (default 1)")
    args = parser.parse_args(argv)
    python = args.python or runtime_python("3.12") or sys.executable
    probe = [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    pyver = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()

    from renown.demo_payloads import twitter_delivery
    from renown.local.moto_stack import MotoStack
    from renown.local.template import LocalTemplate

    with tempfile.TemporaryDirectory(prefix="renown-cold-") as tmp:
        work = Path(tmp)
        layers = args.layers or build_layers(work / "layers", pyver, "required", python)
        task = build_function(work / "task", pyver=pyver, python=python)
        layout = Layout(layers, task, work, python, bytecode=not args.no_bytecode)
        template = LocalTemplate.load(ROOT / "template.yaml")
        moto = MotoStack(template)
        moto.start(lambda_endpoint="http://127.0.0.1:9")
        try:
            moto.create_resources()
            specs = template.functions()
            base_env = {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "RENOWN_AWS_ENDPOINT_URL": moto.endpoint,
                "RENOWN_SECRET_TWITTER": "measure-secret",
                "RENOWN_WIDGET_SIGNING_KEY": "measure-widget-key",
            }
            now = int(time.time())
            engagements = [(str(1000 + i), "100", "mention", now - 60 + i, "#cern news") for i in range(12)]
            body, headers = twitter_delivery(engagements, {}, b"measure-secret")
            wanted = functions_and_layers()
            results: dict[str, dict[str, Any]] = {}

            def measure(name: str, event: Any, label: str = "", fresh_cache: bool = False) -> None:
                env = {**specs[name].environment, **base_env} if name in specs else base_env
                handler = wanted[name]["handler"]
                for run in range(args.repeat):
                    run_env = dict(env)
                    if fresh_cache:  # no shipped cache: numba compiles into an empty directory
                        run_env["RENOWN_NUMBA_SHIPPED_CACHE"] = str(work / "none")
                    suffix = f" #{run + 1}" if args.repeat > 1 else ""
                    results[name + label + suffix] = run_function(name, handler, event, run_env, layout)

            with layout:
                measure("ApiFunction", _api_event("/v1/profiles/p-unknown/score", "not-a-key"))
                measure("WebhookReceiverFunction", _webhook_event(body, headers))
                sqs = moto.client("sqs")
                queue_url = sqs.get_queue_url(QueueName=template.physical["IngestQueue"])["QueueUrl"]
                messages = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    MessageAttributeNames=["All"],
                    AttributeNames=["All"],
                ).get("Messages", [])
                sqs_event = {
                    "Records": [
                        {
                            "messageId": m["MessageId"],
                            "receiptHandle": m["ReceiptHandle"],
                            "body": m["Body"],
                            "md5OfBody": m["MD5OfBody"],
                            "attributes": m.get("Attributes", {}),
                            "messageAttributes": {
                                k: {
                                    "stringValue": v.get("StringValue"),
                                    "binaryValue": None,
                                    "stringListValues": [],
                                    "binaryListValues": [],
                                    "dataType": v["DataType"],
                                }
                                for k, v in m.get("MessageAttributes", {}).items()
                            },
                            "eventSource": "aws:sqs",
                            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ingest",
                            "awsRegion": "us-east-1",
                        }
                        for m in messages
                    ]
                }
                measure("IngestProcessorFunction", sqs_event)
                measure("ScoreUpdaterFunction", {"Records": _edge_stream_records(moto, template)})
                if "PullSourcesFunction" in wanted:
                    measure("PullSourcesFunction", {"source": "wikipedia"})
                rescore = {"task": "score_all", "input": {"mode": "release"}}
                measure("RescoreTaskFunction", rescore)
                if args.compile_contrast:
                    measure("RescoreTaskFunction", rescore, " (empty cache)", fresh_cache=True)
        finally:
            moto.stop()
    versions = {r["python"] for r in results.values() if "python" in r}
    read_only = "read-only" if layout.read_only else "writable (no bind mounts here)"
    print(f"cold starts (Python {', '.join(sorted(versions))} at {python}; /opt/python {read_only};")
    print(f"  a fresh process per function; load average {os.getloadavg()[0]:.2f}):")
    for name, r in results.items():
        if "error" in r:
            print(f"  {name:26s} ERROR {r['error']}")
            continue
        numba = f"  jit {r['jit']} numba cache {r['numba_cache']}" if "numba" in r["modules"] else ""
        print(
            f"  {name:26s} import {r['import_s']:.3f} s  first event {r['first_event_s']:.3f} s  "
            f"together {r['import_s'] + r['first_event_s']:.3f} s  process {r['process_s']:.3f} s{numba}  "
            f"heavy modules {r['modules']}  {r['result']}"
        )
        if r["result"].get("batchItemFailures") and r["log_tail"]:
            print(f"    log: {r['log_tail']}")
    return 0


def _edge_stream_records(moto: Any, template: Any) -> list[dict[str, Any]]:
    """The table stream's EDGES# records, as the event source mapping (with its filter) delivers them."""
    streams = moto.client("dynamodbstreams")
    table = moto.client("dynamodb").describe_table(TableName=template.physical["RenownTable"])["Table"]
    stream_arn = table["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            if record["dynamodb"]["Keys"]["PK"]["S"].startswith("EDGES#"):
                record = json.loads(json.dumps(record, default=lambda v: v.timestamp()))
                record["eventSourceARN"] = stream_arn
                records.append(record)
    return records


if __name__ == "__main__":
    sys.exit(main())
