"""The live updater and the integrity rules (v3): scores move at the full pass, never record by record
with the earlier versions' formulas."""

from __future__ import annotations

from typing import Any

from functions.ingest import score_updater
from functions.shared import aws


def test_an_integrity_version_waits_for_the_full_pass(ddb: Any) -> None:
    table = aws.table()
    change = {"Keys": {"PK": {"S": "EDGES#twitter#1"}, "SK": {"S": "FROM#twitter#2"}}, "SequenceNumber": "7"}
    updated, failed, ctx = score_updater.update_batch(table, {"Records": [{"dynamodb": change}]}, "v3", 0.0)
    assert (updated, failed, ctx) == (0, [], None)
    assert table.scan()["Items"] == []
    # the earlier versions still go record by record (here: no calibration table yet, so they wait too)
    assert score_updater.update_batch(table, {"Records": [{"dynamodb": change}]}, "v1", 0.0)[0] == 0
