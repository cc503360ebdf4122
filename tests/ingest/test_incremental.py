"""The score updater's incremental step against the full solve: after a full pass, a few new
engagements go through the processor and the stream to the updater; its scores are compared with a
fresh full pass over the same table at the same time."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.scoring import score_population
from functions.ingest import processor, score_updater
from functions.ingest.delivery import QueuedDelivery
from functions.rescore.artifacts import DirArtifactStore
from functions.rescore.graph_source import read_snapshot
from functions.rescore.in_process import run_in_process
from functions.shared import keys
from renown.demo_payloads import twitter_delivery
from tests.conftest import LambdaContext
from tests.ingest.conftest import SECRETS, Stack, sqs_event
from tests.ingest.test_pull_and_scores import stream_records

# Documented bound (docs/data-model.md): the updated authors' scores stay within this many points of
# a fresh full pass (measured 1.10 points with the refitted calibration, 0.21 under the stored table,
# raw within 3.0%, on 150 accounts / 1,200 engagements; the gap is the refit, the new account in U
# and the propagation the local step leaves to the nightly pass).
MAX_SCORE_ERROR = 2.0
MAX_RAW_REL_ERROR = 0.05


def deliver(engagements: list[tuple[str, str, str, int, str]], delivery_id: str) -> None:
    body, _ = twitter_delivery(engagements, {}, SECRETS["twitter"])
    delivery = QueuedDelivery(network="twitter", delivery_id=delivery_id, received_at=0, body=body.decode())
    answer = processor.handler(sqs_event([{"body": delivery.model_dump_json()}]), LambdaContext())
    assert answer == {"batchItemFailures": []}


def population(now: int, accounts: int = 150, engagements: int = 1200) -> None:
    rng = random.Random(7)
    kinds = ["like", "like", "like", "share", "mention", "reply", "quote", "follow"]
    rows = []
    for i in range(engagements):
        author = str(100 + min(int(rng.paretovariate(1.2)) - 1, accounts - 1))
        engager = str(100 + rng.randrange(accounts))
        if author != engager:
            rows.append((engager, author, rng.choice(kinds), now - rng.randrange(20 * 86_400), f"#t{i % 5}"))
    for start in range(0, len(rows), 50):
        deliver(rows[start : start + 50], f"pop-{start}")


def scores_by_profile(stack: Stack) -> dict[str, tuple[float, float]]:
    items = stack.table.scan(FilterExpression="SK = :s", ExpressionAttributeValues={":s": keys.SCORE_SK})[
        "Items"
    ]
    return {str(i["profile_id"]): (float(i["score"]), float(i["raw"])) for i in items}


def fresh_pass(stack: Stack, now: float) -> dict[str, tuple[float, float, float]]:
    """profile -> (score refitted, score under the stored table, raw) of a fresh full solve."""
    from core.calibration import CalibrationTable, apply_calibration

    version = stack.table.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.version_sk("v1")})["Item"]
    stored = CalibrationTable.from_dict(
        {k: [float(x) for x in v] if isinstance(v, list) else v for k, v in version["calibration"].items()}
    )
    engagements, accounts = read_snapshot(stack.table).to_core()
    result = score_population(engagements, accounts, version="v1", now=now)
    under_stored = apply_calibration(np.asarray(result.raw_profile), stored)
    return {
        pid: (float(result.score[i]), float(under_stored[i]), float(result.raw_profile[i]))
        for i, pid in enumerate(accounts.profile_ids)
    }


def run_incremental(stack: Stack, now: int, new: list[tuple[str, str, str, int, str]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as artifacts:
        run_in_process({"version": "v1", "now": now}, DirArtifactStore(Path(artifacts)))
    first = scores_by_profile(stack)
    before = {r["dynamodb"]["SequenceNumber"] for r in stream_records("renown")}
    deliver(new, "new-1")
    records = [r for r in stream_records("renown") if r["dynamodb"]["SequenceNumber"] not in before]
    updated, failures, ctx = score_updater.update_batch(stack.table, {"Records": records}, "v1", now + 60)
    assert failures == [] and ctx is not None
    return {"updated": updated, "records": records, "writes": ctx.writes, "first": first}


@pytest.mark.slow
def test_incremental_scores_match_a_fresh_full_pass(stack: Stack) -> None:
    from functions.ingest.identity import profile_id_for

    now = int(time.time())
    population(now)
    new = [
        ("900", "105", "share", now + 10, "#t1"),  # a new account engages
        ("101", "107", "mention", now + 20, "#t2"),
        ("102", "107", "like", now + 30, "#t2"),
        ("103", "110", "reply", now + 40, "#t3"),
        ("104", "100", "quote", now + 50, "#t0"),
    ]
    run = run_incremental(stack, now, new)
    first = run["first"]
    assert run["updated"] == 5  # the four authors and the new engager "900" (scored at once)
    after = scores_by_profile(stack)
    fresh = fresh_pass(stack, now + 60)
    authors = {profile_id_for("twitter", a) for _, a, *_ in new}
    errors = {pid: abs(after[pid][0] - fresh[pid][0]) for pid in authors}
    solve_errors = {pid: abs(after[pid][0] - fresh[pid][1]) for pid in authors}
    raw_errors = {pid: abs(after[pid][1] - fresh[pid][2]) / fresh[pid][2] for pid in authors}
    stale = {pid: abs(first[pid][0] - fresh[pid][0]) for pid in authors}
    print(
        "updated authors vs a fresh full pass: max |score - refitted score|"
        f" {max(errors.values()):.3f} points,"
        f" |score - fresh raw under the stored table| {max(solve_errors.values()):.3f} points,"
        f" max raw relative error {max(raw_errors.values()):.4f}; without the update"
        f" {max(stale.values()):.3f} points; updater writes {run['writes']}"
    )
    assert max(errors.values()) <= MAX_SCORE_ERROR
    assert max(raw_errors.values()) <= MAX_RAW_REL_ERROR
    assert max(solve_errors.values()) < max(stale.values())  # the update closes most of the gap
    for pid in authors:  # and moves every author the way the full solve does
        moved, wanted = after[pid][1] - first[pid][1], fresh[pid][2] - first[pid][1]
        assert moved * wanted > 0 or abs(wanted) < 0.01 * first[pid][1]


def test_updater_waits_for_a_calibration_table(stack: Stack) -> None:
    now = int(time.time())
    deliver([("2", "1", "like", now, "x")], "d-1")
    records = stream_records("renown")
    assert score_updater.handler({"Records": records}, LambdaContext()) == {"batchItemFailures": []}
    from functions.ingest.identity import profile_id_for

    key = {"PK": keys.profile_pk(profile_id_for("twitter", "1")), "SK": keys.SCORE_SK}
    assert "Item" not in stack.table.get_item(Key=key)
