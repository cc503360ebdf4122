"""A +K is an engagement of the giver's account with the receiver's: it moves the receiver's score in a
full scoring pass and through the score updater, and makes no profile of its own."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from core.calibration import fit_calibration
from core.scoring import score_population
from functions.ingest import score_updater
from functions.rescore.graph_source import read_snapshot
from functions.shared import aws, keys
from functions.shared.records import LinkRecord, ProfileRecord, ScoreRecord, _to_dynamo
from tests.api.seed import NOW, put
from tests.api.test_actions import endorse
from tests.api.test_reads import problem

SEEDED = {"p1", "p2", "p3"}


def raw_by_profile(now: float) -> tuple[dict[str, float], list[str]]:
    engagements, accounts = read_snapshot(aws.table(), segments=1).to_core()
    result = score_population(engagements, accounts, version="v1", now=now)
    return dict(zip(accounts.profile_ids, map(float, result.raw_profile), strict=True)), accounts.profile_ids


def test_an_endorsement_moves_the_receivers_raw_in_a_full_pass(client: TestClient, ddb: Any) -> None:
    before, _ = raw_by_profile(NOW)
    assert endorse(client, "p2", "p1").status_code == 201
    after, profiles = raw_by_profile(NOW)
    assert set(profiles) == SEEDED, "no profile made of the endorsement"
    assert after["p2"] > before["p2"] * 1.01
    assert after["p3"] <= before["p3"]  # p3 got nothing


def test_the_score_updater_scores_the_receiver_and_makes_no_profile(client: TestClient, ddb: Any) -> None:
    calibration = fit_calibration(np.linspace(0.01, 5.0, 200))
    put(
        ddb,
        {"PK": keys.ALGO_PK, "SK": keys.version_sk("v2"), "calibration": _to_dynamo(calibration.to_dict())},
    )
    r = endorse(client, "p2", "p1")
    assert r.status_code == 201, r.text
    pk, sk = (
        keys.edges_pk(r.json()["network"], r.json()["account_id"]),
        keys.engager_sk(r.json()["network"], r.json()["giver_account_id"]),
    )
    item = ddb.get_item(TableName="renown", Key={"PK": {"S": pk}, "SK": {"S": sk}})["Item"]
    change = {"Keys": {"PK": item["PK"], "SK": item["SK"]}, "NewImage": item, "SequenceNumber": "1"}
    updated, failed, _ = score_updater.update_batch(
        aws.table(), {"Records": [{"dynamodb": change}]}, "v2", NOW
    )
    assert (updated, failed) == (1, [])
    scores = aws.table().scan(FilterExpression="SK = :s", ExpressionAttributeValues={":s": keys.SCORE_SK})[
        "Items"
    ]
    assert {str(i["profile_id"]) for i in scores} == SEEDED, "no profile made of the endorsement"
    p2 = ScoreRecord.from_item(next(i for i in scores if i["profile_id"] == "p2"))
    assert p2.computed_at == NOW and p2.raw > 0  # rescored now, from the endorsement


def test_a_legacy_renown_edge_is_not_scored(ddb: Any) -> None:
    """``EDGES#renown#<profile>`` items of old name profiles: neither scoring path makes them a profile."""
    put(
        ddb,
        {
            "PK": keys.edges_pk("renown", "p2"),
            "SK": keys.engager_sk("renown", "p1"),
            "network": "renown",
            "author_id": "p2",
            "engager_id": "p1",
            "c_endorsement": 1,
            "d_endorsement": 1,
        },
    )
    _, profiles = raw_by_profile(NOW)
    assert set(profiles) == SEEDED
    change = {
        "Keys": {"PK": {"S": keys.edges_pk("renown", "p2")}, "SK": {"S": keys.engager_sk("renown", "p1")}},
        "SequenceNumber": "1",
    }
    put(
        ddb,
        {
            "PK": keys.ALGO_PK,
            "SK": keys.version_sk("v2"),
            "calibration": _to_dynamo(fit_calibration(np.arange(1.0, 4.0)).to_dict()),
        },
    )
    assert score_updater.update_batch(aws.table(), {"Records": [{"dynamodb": change}]}, "v2", NOW)[:2] == (
        0,
        [],
    )


def test_a_plus_k_needs_a_shared_network(client: TestClient, ddb: Any) -> None:
    put(ddb, ProfileRecord(profile_id="q1", name="Quinn", created_at=NOW).to_item())
    put(ddb, ScoreRecord(profile_id="q1", score=30, algorithm_version="v2", computed_at=NOW).to_item())
    put(ddb, LinkRecord(profile_id="q1", network="bluesky", account_id="did:q1", handle="q1").to_item())
    problem(endorse(client, "q1", "p1"), 422, "no-shared-network")
    put(ddb, LinkRecord(profile_id="q1", network="mastodon", account_id="m9", handle="q@x").to_item())
    r = endorse(client, "q1", "p1")  # p1 is on twitter and mastodon
    assert r.status_code == 201, r.text
    assert (r.json()["network"], r.json()["account_id"], r.json()["giver_account_id"]) == (
        "mastodon",
        "m9",
        "m1",
    )
