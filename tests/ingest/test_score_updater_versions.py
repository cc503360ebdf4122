"""The live updater under the integrity rules (v3): between full passes every account that takes part
in an engagement gets a provisional score at once, computed with the v3 rules from the last pass's
stored ranks, cap and calibration table, close to what the next full pass gives."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.scoring import score_population
from functions.ingest import score_updater
from functions.ingest.identity import profile_id_for
from functions.rescore.artifacts import DirArtifactStore
from functions.rescore.graph_source import read_snapshot
from functions.rescore.in_process import run_in_process
from functions.shared import aws, keys
from tests.ingest.conftest import Stack
from tests.ingest.test_incremental import deliver, population, scores_by_profile
from tests.ingest.test_pull_and_scores import stream_records

MAX_GAP = 6.0  # points between a provisional score and the next full pass (docs/algorithm.md)


def test_without_a_full_pass_nothing_is_made_up(ddb: Any) -> None:
    table = aws.table()
    change = {"Keys": {"PK": {"S": "EDGES#twitter#1"}, "SK": {"S": "FROM#twitter#2"}}, "SequenceNumber": "7"}
    for version in ("v3", "v1"):  # no calibration table yet: the scores wait for the first pass
        updated, failed, ctx = score_updater.update_batch(
            table, {"Records": [{"dynamodb": change}]}, version, 0.0
        )
        assert (updated, failed, ctx) == (0, [], None)
    assert table.scan()["Items"] == []


def test_v3_provisional_scores_between_full_passes(stack: Stack) -> None:
    now = int(time.time())
    population(now, accounts=60, engagements=500)
    with tempfile.TemporaryDirectory() as artifacts:
        run_in_process({"version": "v3", "now": now}, DirArtifactStore(Path(artifacts)))
    first = scores_by_profile(stack)
    population_item = stack.table.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.incr_sk("v3")})["Item"]
    assert {"cap", "timed"} <= set(population_item)
    before = {r["dynamodb"]["SequenceNumber"] for r in stream_records("renown")}
    new = [(str(100 + i), "900", "like", now + 10 + i, "#t1") for i in range(8)]  # a new person, 8 engagers
    new += [("901", "105", "share", now + 30, "#t2")]  # a new account engages (it is scored too)
    new += [("101", "107", "mention", now + 40, "#t2"), ("102", "107", "like", now + 41, "#t2")]
    new += [("107", "101", "mention", now + 42, "#t2")]  # engagement back: the mutual part cancels
    deliver(new, "new-v3")
    records = [r for r in stream_records("renown") if r["dynamodb"]["SequenceNumber"] not in before]
    updated, failures, ctx = score_updater.update_batch(stack.table, {"Records": records}, "v3", now + 60)
    assert failures == [] and ctx is not None
    touched = {"900", "901", "105", "107", "101"}
    assert updated >= len(touched)
    after = {
        str(i["profile_id"]): i
        for i in stack.table.scan(
            FilterExpression="SK = :s", ExpressionAttributeValues={":s": keys.SCORE_SK}
        )["Items"]
    }
    for account in touched:  # every account of the batch has a score at once, marked provisional
        item = after[profile_id_for("twitter", account)]
        assert item["provisional"] is True and item["algorithm_version"] == "v3"
    untouched = [pid for pid, item in after.items() if not item.get("provisional")]
    assert untouched and all(float(after[pid]["score"]) == first[pid][0] for pid in untouched)

    engagements, accounts = read_snapshot(stack.table).to_core()
    fresh = score_population(engagements, accounts, version="v3", now=now + 60)
    full = {pid: float(fresh.score[i]) for i, pid in enumerate(accounts.profile_ids)}
    gaps = {
        a: abs(float(after[profile_id_for("twitter", a)]["score"]) - full[profile_id_for("twitter", a)])
        for a in touched
    }
    print(f"\nv3 provisional vs next full pass: { ({a: round(g, 2) for a, g in sorted(gaps.items())}) }")
    assert max(gaps.values()) <= MAX_GAP
    newcomer = float(after[profile_id_for("twitter", "900")]["score"])
    assert newcomer > 20.0  # eight engagers: above the floor of the calibrated scale
    assert float(after[profile_id_for("twitter", "901")]["score"]) < 20.0  # no engagement: the band
    assert np.isfinite(newcomer)
