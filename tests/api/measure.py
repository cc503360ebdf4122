"""Measure the API function (report, don't assert): ``.venv/bin/python -m tests.api.measure``.

Usage: ``.venv/bin/python -m tests.api.measure [/path/to/clean/venv/bin/python]``

1. Cold start in a fresh process: ``import functions.api.handler`` plus the first request through the
   Mangum handler (a REST v1 event for ``GET /v1/profiles/p1/score``), with DynamoDB served by a moto
   server on loopback (``RENOWN_AWS_ENDPOINT_URL``), so the child process imports no moto. This runs
   the checkout with the virtualenv, where botocore also loads pyOpenSSL and awscrt (about 0.1 s that
   Lambda does not pay): the Lambda-layout figure is ``python -m tests.deploy.measure_cold_start``.
2. Warm latency, p50/p99 of 1,000 in-process score lookups through the Mangum handler: over moto
   in-process (``mock_aws``), and over an in-memory store (the API's own overhead).
3. DynamoDB calls per score lookup, counted with a botocore ``before-call`` hook.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import boto3
from mangum import Mangum
from moto import mock_aws
from moto.server import ThreadedMotoServer

from functions.api.app import create_app
from functions.api.handler import TEXT_MIME_TYPES
from functions.api.store import DynamoApiTable
from functions.shared.records import ScoreRecord
from functions.shared.settings import Settings
from tests.api.seed import NOW, seed
from tests.api.test_handler import rest_event
from tests.conftest import create_table

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import functions.api.handler as h
t1 = time.perf_counter()
event = json.loads(sys.argv[1])
out = h.handler(event, None)
t2 = time.perf_counter()
out2 = h.handler(event, None)
t3 = time.perf_counter()
mods = [m for m in sys.modules if m.split(".")[0] in ("numba", "numpy", "core", "moto")]
print(json.dumps({"import_s": t1 - t0, "first_s": t2 - t1, "second_s": t3 - t2,
                  "status": out["statusCode"], "status2": out2["statusCode"], "heavy_modules": mods}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _event(path: str, key: str) -> dict[str, Any]:
    return rest_event(path, {"x-api-key": key})


def cold_start(runs: int = 5, python: str = sys.executable) -> dict[str, Any]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        create_table(client)
        seed(client)
        env = {
            **os.environ,
            "RENOWN_AWS_ENDPOINT_URL": endpoint,
            "RENOWN_DEV_API_KEY": "measure-key",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        }
        event = json.dumps(_event("/v1/profiles/p1/score", "measure-key"))
        results = []
        for _ in range(runs):
            t0 = time.perf_counter()
            out = subprocess.run(
                [python, "-c", CHILD, event], env=env, capture_output=True, text=True, check=True
            )
            wall = time.perf_counter() - t0
            results.append({**json.loads(out.stdout.strip().splitlines()[-1]), "process_wall_s": wall})
    finally:
        server.stop()
    keys_ = ("import_s", "first_s", "second_s", "process_wall_s")
    summary = {k: statistics.median(r[k] for r in results) for k in keys_}
    return {
        "python": python,
        "runs": runs,
        "median": summary,
        "status": results[0]["status"],
        "heavy_modules": results[0]["heavy_modules"],
    }


class MemoryApiTable:
    """The two calls a score lookup makes, from a dict: isolates the API's own overhead."""

    def __init__(self, score: Any) -> None:
        self.score = score
        self.count = 0

    def get_score(self, profile_id: str, version: str | None = None) -> Any:
        return self.score if profile_id == "p1" else None

    def meter(self, key_hash: str, day: str) -> int:
        self.count += 1
        return 1


def _latencies(handler: Any, event: dict[str, Any], n: int) -> dict[str, float]:
    for _ in range(20):
        handler(event, None)
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = handler(event, None)
        samples.append(time.perf_counter() - t0)
        assert out["statusCode"] == 200
    samples.sort()
    return {
        "n": n,
        "p50_ms": 1000 * samples[n // 2],
        "p99_ms": 1000 * samples[int(n * 0.99) - 1],
        "mean_ms": 1000 * statistics.fmean(samples),
    }


def warm(n: int = 1000) -> dict[str, Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "x")
    settings = Settings(dev_api_key="measure-key", daily_quota=10**9)
    event = _event("/v1/profiles/p1/score", "measure-key")
    out: dict[str, Any] = {}
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        seed(client)
        calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        store = DynamoApiTable(client=client, table_name="renown")
        handler = Mangum(
            create_app(store=store, settings=settings, clock=lambda: NOW),
            lifespan="off",
            text_mime_types=TEXT_MIME_TYPES,
        )
        handler(event, None)
        calls.clear()
        handler(event, None)
        out["dynamodb_calls_per_score_lookup"] = dict(calls)
        out["warm_moto_in_process"] = _latencies(handler, event, n)
        rec = store.get_score("p1")
    memory = MemoryApiTable(
        rec
        if rec is not None
        else ScoreRecord(profile_id="p1", score=1, algorithm_version="v", computed_at=0)
    )
    handler = Mangum(
        create_app(store=memory, settings=settings, clock=lambda: NOW),
        lifespan="off",  # type: ignore[arg-type]
        text_mime_types=TEXT_MIME_TYPES,
    )
    out["warm_memory_store"] = _latencies(handler, event, n)
    return out


def main() -> None:
    """``python -m tests.api.measure [COLD_PYTHON]``: COLD_PYTHON runs the cold-start child, e.g. a venv
    holding only the API's runtime packages (the dev venv also has awscrt and pyOpenSSL, which botocore
    imports when present and Lambda's runtime does not have)."""
    python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
    report = {"cold_start": cold_start(python=python), **warm()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
