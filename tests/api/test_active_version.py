"""Score reads serve only the active version: after a release is rolled back (``ALGO / ACTIVE`` names
the previous version again) while the plain ``SCORE`` items still carry the failed version, every read
of the active score answers the previous version, or "not scored yet" when there is none."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from functions.api.store import VERSION_TTL_S, DynamoApiTable
from functions.shared import keys
from tests.api.seed import put
from tests.api.test_reads import problem


def roll_back_to_v1(ddb: Any, store: DynamoApiTable) -> None:
    """The seed's ``SCORE`` items are v2 (the failed release); the switch goes back to v1."""
    put(ddb, {"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK, "version": "v1"})
    store.ping()  # the process re-reads the pointer (at most VERSION_TTL_S later in production)


def test_the_version_cache_is_short() -> None:
    assert VERSION_TTL_S <= 10
    assert DynamoApiTable(client=object(), table_name="t").version_ttl_s == VERSION_TTL_S


def test_score_reads_serve_the_active_version_only(
    client: TestClient, ddb: Any, store: DynamoApiTable
) -> None:
    assert client.get("/v1/profiles/p1/score").json()["algorithm_version"] == "v2"
    roll_back_to_v1(ddb, store)
    body = client.get("/v1/profiles/p1/score").json()
    assert (body["algorithm_version"], body["score"]) == ("v1", 60.0)
    explained = client.get("/v1/profiles/p1/explain").json()
    assert (explained["algorithm_version"], explained["score"]) == ("v1", 60.0)
    view = client.get("/v1/profiles/p1").json()
    assert (view["algorithm_version"], view["score"]) == ("v1", 60.0)
    compared = client.get("/v1/compare", params={"ids": "p1,p3"}).json()
    assert [(s["algorithm_version"], s["score"]) for s in compared["scores"]] == [("v1", 60.0), ("v1", 70.0)]
    assert client.get("/v1/profiles/p1/influence").json()["algorithm_version"] == "v1"
    # a version pinned explicitly is still answered (shadow scores stay readable by name)
    assert client.get("/v1/profiles/p1/score", params={"version": "v2"}).json()["score"] == 63.2


def test_no_score_under_the_active_version_is_not_scored_yet(
    client: TestClient, ddb: Any, store: DynamoApiTable
) -> None:
    ddb.delete_item(TableName="renown", Key={"PK": {"S": keys.profile_pk("p2")}, "SK": {"S": "SCORE#v1"}})
    roll_back_to_v1(ddb, store)
    problem(client.get("/v1/profiles/p2/score"), 404, "profile-not-found")
    problem(client.get("/v1/profiles/p2/explain"), 404, "profile-not-found")
    problem(client.get("/v1/compare", params={"ids": "p1,p2"}), 404, "profile-not-found")
    view = client.get("/v1/profiles/p2").json()
    assert view.get("score") is None and view.get("algorithm_version") is None
