"""Measurements of the ingest path on the local stack (moto server process + in-process handlers).

Run: ``.venv/bin/python -m tests.ingest.measure_pipeline`` (all three) or with ``--only throughput``,
``--only latency``, ``--only load``; ``--json`` prints one JSON object at the end. Not part of the test
run and no timed asserts: numbers depend on the machine (and on what else runs on it).

1. throughput: signed deliveries (one engagement each) POSTed to ``/webhooks/twitter`` by a few
   threads; deliveries per second through receiver -> queue -> processor -> table (until every edge is
   in the table), and the receiver's own rate;
2. latency: a delivery to an author, then ``GET /v1/profiles/{id}/score`` (``x-api-key``) polled until
   the score reflects it (``computed_at`` moves past the delivery);
3. load: ``--deliveries`` concurrent signed deliveries over ``--threads`` threads (loopback only), 10%
   sent twice (a network retry); every accepted delivery must be in the table exactly once (its edge
   exists with count 1) and no replay may add anything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from renown.demo_payloads import twitter_delivery


def wait_until(check: Any, timeout_s: float, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval_s)
    return bool(check())


class Bench:
    def __init__(self, stack: Any) -> None:
        from functions.shared import aws
        from functions.shared.settings import get_settings

        self.stack = stack
        self.settings = get_settings()
        self.secret = self.settings.webhook_secret("twitter")
        self.table = aws.table()
        # a stored key (the template turns the well-known dev key off: RENOWN_DEV_API_KEY is empty)
        from functions.api.security import hash_api_key
        from functions.shared.records import ApiKeyRecord

        key = "renown-ingest-bench-key"
        self.table.put_item(Item=ApiKeyRecord(key_hash=hash_api_key(key), owner="measure_pipeline").to_item())
        self.api_headers = {"x-api-key": key}
        self.session = threading.local()

    def http(self) -> requests.Session:
        if not hasattr(self.session, "s"):
            self.session.s = requests.Session()
        session: requests.Session = self.session.s
        return session

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        reply = self.http().post(f"{self.stack.url}/webhooks/twitter", data=body, headers=headers, timeout=60)
        return reply.status_code

    def delivery(self, engager: str, author: str, kind: str = "like") -> tuple[bytes, dict[str, str]]:
        return twitter_delivery([(engager, author, kind, int(time.time()), "#bench")], {}, self.secret)

    def edges_of(self, prefix: str) -> dict[tuple[str, str], int]:
        """``(author, engager) -> total count`` of the edges whose author id starts with ``prefix``."""
        out: dict[tuple[str, str], int] = {}
        kwargs: dict[str, Any] = {
            "FilterExpression": "begins_with(PK, :p)",
            "ExpressionAttributeValues": {":p": f"EDGES#twitter#{prefix}"},
        }
        while True:
            page = self.table.scan(**kwargs)
            for item in page["Items"]:
                counts = sum(int(v) for k, v in item.items() if k.startswith("c_"))
                author, engager = item["PK"].split("#", 2)[2], item["SK"].split("#", 2)[2]
                out[(author, engager)] = counts
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def backlog(self) -> int:
        sqs = self.stack.moto.client("sqs")
        attributes = sqs.get_queue_attributes(
            QueueUrl=self.stack.template.ref("IngestQueue"),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def landed(self, run: str, count: int, timeout_s: float) -> bool:
        """Wait until the queue is empty and ``count`` edges of ``run`` are in the table (a scan is a
        pass over the whole table in moto: scan only once the queue has drained)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.backlog() == 0 and len(self.edges_of(run)) >= count:
                return True
            time.sleep(0.2)
        return False

    # --- setup -----------------------------------------------------------------------------------
    def prepare(self) -> dict[str, Any]:
        """A small population and a full pass (calibration table, updater state) to score against."""
        from functions.rescore.artifacts import DirArtifactStore
        from functions.rescore.in_process import run_in_process

        now = int(time.time())
        for a in range(10):
            rows = [(f"9{a}{e:02d}", f"8{a:02d}", "mention", now, "#setup") for e in range(3 + 2 * a)]
            assert self.post(*twitter_delivery(rows, {}, self.secret)) == 200
        assert wait_until(lambda: len(self.edges_of("8")) == sum(3 + 2 * a for a in range(10)), 120, 0.5)
        started = time.perf_counter()
        version = self.settings.algorithm_version
        with tempfile.TemporaryDirectory() as artifacts:
            summary = run_in_process({"version": version}, DirArtifactStore(Path(artifacts)))
        return {"full_pass_s": round(time.perf_counter() - started, 2), "profiles": summary["profiles"]}

    # --- 1. throughput ---------------------------------------------------------------------------------
    def throughput(self, deliveries: int, threads: int) -> dict[str, Any]:
        run = f"1{int(time.time()) % 100000:05d}"
        jobs = [self.delivery(f"{run}{i:05d}", f"{run}{i % 50:03d}") for i in range(deliveries)]
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            codes = list(pool.map(lambda job: self.post(*job), jobs))
        posted = time.perf_counter() - started
        accepted = codes.count(200)
        landed = self.landed(run, accepted, 600)
        total = time.perf_counter() - started
        return {
            "deliveries": deliveries,
            "threads": threads,
            "accepted": accepted,
            "all_landed": landed,
            "receiver_per_s": round(deliveries / posted, 1),
            "end_to_end_per_s": round(accepted / total, 1),
            "end_to_end_s": round(total, 2),
        }

    # --- 2. latency -------------------------------------------------------------------------------
    def score_of(self, profile_id: str) -> dict[str, Any]:
        reply = self.http().get(
            f"{self.stack.url}/v1/profiles/{profile_id}/score", headers=self.api_headers, timeout=30
        )
        self.last_reply = f"{reply.status_code} {reply.text[:300]}"
        return dict(reply.json()) if reply.status_code == 200 else {}

    def latency(self, rounds: int) -> dict[str, Any]:
        from functions.ingest.identity import profile_id_for

        samples: list[float] = []
        for r in range(rounds):
            author = f"80{r % 10}"
            profile_id = profile_id_for("twitter", author)
            time.sleep(1.05)  # computed_at has one-second resolution: start on a fresh second
            sent = time.time()
            rows = [(f"7{r:03d}{e:02d}", author, "share", int(sent), "#latency") for e in range(5)]
            assert self.post(*twitter_delivery(rows, {}, self.secret)) == 200
            t0 = time.perf_counter()
            ok = wait_until(
                lambda pid=profile_id, at=int(sent): int(self.score_of(pid).get("computed_at", 0)) >= at,
                60,
                0.05,
            )
            samples.append(time.perf_counter() - t0 if ok else float("inf"))
            if not ok:
                print("no score change; last answer:", getattr(self, "last_reply", None), file=sys.stderr)
        finite = [s for s in samples if s != float("inf")]
        return {
            "rounds": rounds,
            "seconds": [round(s, 2) for s in samples],
            "median_s": round(statistics.median(finite), 2) if finite else None,
            "max_s": round(max(samples), 2),
        }

    # --- 3. load: exactly once -----------------------------------------------------------------------
    def load(self, deliveries: int, threads: int, replay_share: float = 0.1) -> dict[str, Any]:
        run = f"2{int(time.time()) % 100000:05d}"
        jobs = [(i, *self.delivery(f"{run}{i:05d}", f"{run}{i % 100:03d}")) for i in range(deliveries)]
        replays = [jobs[i] for i in range(0, deliveries, max(1, int(1 / replay_share)))]
        codes: dict[int, list[int]] = {}
        lock = threading.Lock()

        def send(job: tuple[int, bytes, dict[str, str]]) -> None:
            code = self.post(job[1], job[2])
            with lock:
                codes.setdefault(job[0], []).append(code)

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(send, jobs + replays))
        posted = time.perf_counter() - started
        accepted = {i for i, c in codes.items() if 200 in c and all(x in (200, 409) for x in c)}
        refused = {i for i, c in codes.items() if i not in accepted}
        expected = {(f"{run}{i % 100:03d}", f"{run}{i:05d}") for i in accepted}
        self.landed(run, len(expected), 900)
        time.sleep(2)  # anything still in flight would show up as a count of 2
        edges = self.edges_of(run)
        missing = expected - set(edges)
        doubled = {k: v for k, v in edges.items() if v != 1}
        unexpected = set(edges) - expected
        status_counts: dict[str, int] = {}
        for c in codes.values():
            for x in c:
                status_counts[str(x)] = status_counts.get(str(x), 0) + 1
        return {
            "deliveries": deliveries,
            "replays": len(replays),
            "threads": threads,
            "statuses": status_counts,
            "accepted": len(accepted),
            "refused": len(refused),
            "in_table": len(edges),
            "missing": len(missing),
            "counted_twice": len(doubled),
            "unexpected": len(unexpected),
            "exactly_once": not missing and not doubled and not unexpected,
            "receiver_per_s": round((deliveries + len(replays)) / posted, 1),
            "end_to_end_s": round(time.perf_counter() - started, 2),
        }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["throughput", "latency", "load"], action="append")
    parser.add_argument("--deliveries", type=int, default=2000, help="load test deliveries")
    parser.add_argument("--threads", type=int, default=16, help="load test threads")
    parser.add_argument("--throughput-deliveries", type=int, default=500)
    parser.add_argument("--latency-rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    wanted = set(args.only or ["throughput", "latency", "load"])

    import logging
    import os

    logging.disable(logging.WARNING)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    from renown.local.stack import LocalStack

    stack = LocalStack(port=0)
    stack.start()
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    try:
        bench = Bench(stack)
        results["setup"] = bench.prepare()
        if "throughput" in wanted:
            results["throughput"] = bench.throughput(args.throughput_deliveries, 8)
            print("throughput", results["throughput"], file=sys.stderr)
        if "latency" in wanted:
            results["latency"] = bench.latency(args.latency_rounds)
            print("latency", results["latency"], file=sys.stderr)
        if "load" in wanted:
            results["load"] = bench.load(args.deliveries, args.threads)
            print("load", results["load"], file=sys.stderr)
    finally:
        stack.stop()
    if args.json:
        print(json.dumps(results))
    else:
        print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
