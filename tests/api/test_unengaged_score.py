"""A person the service has ingested has a score at once: a profile first seen after the last full pass,
with no engagement yet, is served the score the active version publishes for a profile without
engagement (provisional), never "no such profile"."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from core.integrity import IntegrityParams, band_scores, unengaged_table
from functions.shared import keys
from functions.shared.records import AccountRecord, LinkRecord, ProfileRecord, VersionRecord
from tests.api.seed import NOW, put


def newcomer(ddb: Any, followers: int, pid: str = "p9", acct: str = "9009") -> None:
    for rec in (
        ProfileRecord(profile_id=pid, name="New Person", created_at=NOW - 60),
        AccountRecord(network="twitter", account_id=acct, profile_id=pid, handle="newp", followers=followers),
        LinkRecord(profile_id=pid, network="twitter", account_id=acct, handle="newp"),
    ):
        put(ddb, rec.to_item())


def publish(ddb: Any, version: str, unengaged: dict[str, list[float]]) -> None:
    put(ddb, VersionRecord(version=version, status="active", unengaged=unengaged).to_item())
    put(ddb, {"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK, "version": version})


def test_a_newcomer_gets_the_published_score_of_a_profile_without_engagement(
    ddb: Any, client: TestClient
) -> None:
    publish(ddb, "v3", unengaged_table(IntegrityParams()))
    newcomer(ddb, followers=1000)
    reply = client.get("/v1/profiles/p9/score")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["provisional"] is True and body["algorithm_version"] == "v3"
    expected = float(band_scores(np.array([1000.0]), IntegrityParams())[0])
    assert abs(body["score"] - expected) < 0.02
    profile = client.get("/v1/profiles/p9").json()
    assert profile["score"] == body["score"] and profile["provisional"] is True
    # more reach, a higher place in the band (the full pass's own rule)
    newcomer(ddb, followers=10, pid="p8", acct="9008")
    assert client.get("/v1/profiles/p8/score").json()["score"] < body["score"]


def test_without_a_published_table_it_stays_404(ddb: Any, client: TestClient) -> None:
    newcomer(ddb, followers=1000)  # the active version (v2) publishes no table
    assert client.get("/v1/profiles/p9/score").status_code == 404


def test_an_opted_out_newcomer_or_an_unknown_id_stays_404(ddb: Any, client: TestClient) -> None:
    publish(ddb, "v3", unengaged_table(IntegrityParams()))
    newcomer(ddb, followers=1000)
    assert client.get("/v1/profiles/p9/score").status_code == 200
    assert client.get("/v1/profiles/nobody/score").status_code == 404
    put(ddb, {"PK": keys.optout_pk("twitter", "9009"), "SK": keys.META_SK, "at": NOW})
    reply = client.get("/v1/profiles/p9/score")
    assert reply.status_code == 404 and reply.json()["type"].endswith("profile-not-found")
