"""Writes: endorsements (+K), perks, opt-out (erasure and 404 everywhere afterwards)."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from fastapi.testclient import TestClient

from functions.api.security import publishable_key
from functions.shared import keys
from functions.shared.records import (
    DECAY_EPOCH,
    DECAY_HALF_LIFE_S,
    LinkRecord,
    PerkRecord,
    ProfileRecord,
    ScoreRecord,
)
from tests.api.conftest import SIGNING
from tests.api.seed import NOW, put
from tests.api.selfservice import token_of
from tests.api.test_reads import problem

_DES = TypeDeserializer()


def owner(pid: str) -> dict[str, str]:
    return {"x-renown-owner-token": token_of(pid)}


def get_item(ddb: Any, pk: str, sk: str) -> dict[str, Any] | None:
    item = ddb.get_item(TableName="renown", Key={"PK": {"S": pk}, "SK": {"S": sk}}).get("Item")
    return None if item is None else {k: _DES.deserialize(v) for k, v in item.items()}


def partition(ddb: Any, pk: str) -> list[dict[str, Any]]:
    out = ddb.query(
        TableName="renown",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )
    items: list[dict[str, Any]] = out["Items"]
    return items


# --- endorsements ------------------------------------------------------------------------------------


def endorse(client: TestClient, to: str, giver: str, topic: str = "python", token: str | None = None) -> Any:
    headers = owner(giver) if token is None else {"x-renown-owner-token": token}
    return client.post(
        f"/v1/profiles/{to}/endorsements", json={"giver_profile_id": giver, "topic": topic}, headers=headers
    )


def test_endorsement_weighted_and_written_to_edge(client: TestClient, ddb: Any) -> None:
    r = endorse(client, "p2", "p1")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body == {
        "profile_id": "p2",
        "giver_profile_id": "p1",
        "topic": "python",
        "day": "2025-06-15",
        "weight": 0.632,
        "reciprocal": False,
        "remaining_today": 4,
        "network": "twitter",
        "account_id": "1002",
        "giver_account_id": "1001",
    }
    # an engagement of p1's twitter account with p2's, on the edge ingest writes
    edge = get_item(ddb, keys.edges_pk("twitter", "1002"), keys.engager_sk("twitter", "1001"))
    assert edge is not None
    assert edge["c_endorsement"] == 1
    assert float(edge["d_endorsement"]) == pytest.approx(2 ** ((NOW - DECAY_EPOCH) / DECAY_HALF_LIFE_S))
    assert edge["first_ts"] == edge["last_ts"] == edge["updated_at"] == NOW
    assert edge["network"] == "twitter" and edge["author_id"] == "1002" and edge["engager_id"] == "1001"
    assert edge["GSI2PK"] == keys.gave_gsi2pk("twitter", "1001")
    assert get_item(ddb, keys.edges_pk("renown", "p2"), keys.engager_sk("renown", "p1")) is None
    endorse(client, "p2", "p1", topic="mathematics")
    edge = get_item(ddb, keys.edges_pk("twitter", "1002"), keys.engager_sk("twitter", "1001"))
    assert edge is not None and edge["c_endorsement"] == 2


def test_endorsement_once_per_topic_per_day(client: TestClient, clock: Any) -> None:
    assert endorse(client, "p2", "p1").status_code == 201
    problem(endorse(client, "p2", "p1"), 409, "already-endorsed")
    clock.now += 86_400
    assert endorse(client, "p2", "p1").status_code == 201


def test_endorsement_daily_limit_per_giver(client: TestClient, ddb: Any, clock: Any) -> None:
    for i in range(5):
        put(ddb, ScoreRecord(profile_id=f"q{i}", score=10, algorithm_version="v2", computed_at=NOW).to_item())
        put(
            ddb,
            LinkRecord(profile_id=f"q{i}", network="twitter", account_id=f"9{i}", handle=f"q{i}").to_item(),
        )
    codes = [endorse(client, f"q{i}", "p1").status_code for i in range(5)]
    assert codes == [201] * 5
    problem(endorse(client, "p2", "p1"), 429, "endorsement-limit")
    clock.now += 86_400
    assert endorse(client, "p2", "p1").json()["remaining_today"] == 4


def test_reciprocal_endorsement_discounted(client: TestClient, clock: Any) -> None:
    assert endorse(client, "p2", "p1").json()["reciprocal"] is False
    clock.now += 3 * 86_400
    back = endorse(client, "p1", "p2").json()  # p2 returns the favour within 30 days
    assert back["reciprocal"] is True
    assert back["weight"] == pytest.approx(0.48 * 0.25)
    clock.now += 40 * 86_400
    assert endorse(client, "p1", "p2", topic="mathematics").json()["reciprocal"] is False


def test_endorsement_needs_giver_owner_token(client: TestClient) -> None:
    problem(endorse(client, "p2", "p1", token="own_forged"), 403, "invalid-owner-token")
    problem(endorse(client, "p2", "p1", token=token_of("p3")), 403, "invalid-owner-token")
    problem(endorse(client, "p1", "p1"), 422, "validation-error")
    problem(endorse(client, "nobody", "p1"), 404, "profile-not-found")
    problem(endorse(client, "p2", "p1", topic="Not a slug"), 422, "validation-error")


# --- perks ---------------------------------------------------------------------------------------


def test_perks(client: TestClient, ddb: Any) -> None:
    r = client.post(
        "/v1/perks",
        json={
            "brand": "Acme",
            "title": "Beta access",
            "min_score": 60,
            "topic": "python",
            "expires_at": NOW + 86_400,
        },
    )
    assert r.status_code == 201, r.text
    perk_id = r.json()["perk_id"]
    client.post("/v1/perks", json={"brand": "B", "title": "Anyone", "min_score": 0, "expires_at": NOW + 10})
    client.post("/v1/perks", json={"brand": "C", "title": "Elite", "min_score": 70, "expires_at": NOW + 10})
    put(ddb, PerkRecord(perk_id="old", brand="D", title="Expired", expires_at=NOW - 1).to_item())
    put(
        ddb,
        PerkRecord(
            perk_id="t", brand="E", title="Gardening", topic="gardening", expires_at=NOW + 9
        ).to_item(),
    )
    p1 = client.get("/v1/profiles/p1/perks").json()
    assert p1["score"] == 63.2
    assert sorted(p["title"] for p in p1["perks"]) == ["Anyone", "Beta access"]
    assert perk_id in {p["perk_id"] for p in p1["perks"]}
    p3 = client.get("/v1/profiles/p3/perks").json()
    assert sorted(p["title"] for p in p3["perks"]) == ["Anyone", "Beta access", "Elite"]
    bad = {"brand": "X", "title": "Y", "min_score": 101, "expires_at": NOW + 10}
    body = problem(client.post("/v1/perks", json=bad), 422, "validation-error")
    assert body["errors"][0]["field"] == "body.min_score"
    problem(
        client.post("/v1/perks", json={**bad, "min_score": 1, "expires_at": NOW - 5}), 422, "validation-error"
    )


# --- opt-out ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_opt_out_erases_everything(
    client: TestClient, anon: TestClient, ddb: Any, app: Any, method: str
) -> None:
    page = "https://blog.example"
    widget = {"params": {"key": publishable_key(SIGNING.encode(), [page])}, "headers": {"origin": page}}
    assert anon.get("/v1/widgets/p1/badge.svg", **widget).status_code == 200  # warm the widget cache
    endorse(client, "p1", "p2")
    put(ddb, {"PK": keys.account_pk("twitter", "1001"), "SK": "ACT#000000000001#a1", "kind": "post"})
    put(ddb, {"PK": keys.edges_pk("twitter", "1001"), "SK": keys.engager_sk("twitter", "1003"), "c_like": 3})

    path = "/v1/profiles/p1/opt-out" if method == "POST" else "/v1/profiles/p1"
    problem(client.request(method, path), 401, "missing-owner-token")
    problem(client.request(method, path, headers=owner("p2")), 403, "invalid-owner-token")
    r = client.request(method, path, headers=owner("p1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["erased_items"] > 40
    assert {(a["network"], a["account_id"]) for a in body["accounts_opted_out"]} == {
        ("twitter", "1001"),
        ("mastodon", "m1"),
    }

    # the table: nothing left of p1 but the opt-out markers ingest reads
    assert partition(ddb, keys.profile_pk("p1")) == []
    assert partition(ddb, keys.account_pk("twitter", "1001")) == []
    assert partition(ddb, keys.account_pk("mastodon", "m1")) == []
    assert partition(ddb, keys.edges_pk("twitter", "1001")) == []
    assert partition(ddb, keys.edges_pk("renown", "p1")) == []
    marker = get_item(ddb, keys.optout_pk("twitter", "1001"), keys.META_SK)
    assert marker is not None and marker["opted_out_at"] == NOW
    assert get_item(ddb, keys.optout_pk("mastodon", "m1"), keys.META_SK) is not None
    # the API's caches
    assert app.state.caches.widgets.get(("p1", "badge"), NOW) is None

    # every endpoint and widget: as if p1 never existed
    for suffix in ["", "/score", "/explain", "/history", "/topics", "/influence", "/perks"]:
        problem(client.get(f"/v1/profiles/p1{suffix}"), 404, "profile-not-found")
    problem(client.get("/v1/identity/twitter/ada"), 404, "account-not-found")
    problem(client.get("/v1/identity/mastodon/id/m1"), 404, "account-not-found")
    problem(client.get("/v1/compare", params={"ids": "p1,p2"}), 404, "profile-not-found")
    assert client.get("/v1/search", params={"q": "ada"}).json()["hits"] == []
    leaders = client.get("/v1/topics/python/leaders").json()["leaders"]
    assert "p1" not in {x["profile_id"] for x in leaders}
    problem(anon.get("/v1/widgets/p1/badge.svg", **widget), 404, "profile-not-found")
    problem(anon.get("/v1/widgets/p1/card", **widget), 404, "profile-not-found")
    problem(endorse(client, "p1", "p3"), 404, "profile-not-found")
    problem(client.request(method, path, headers=owner("p1")), 404, "profile-not-found")


def test_opted_out_people_leave_other_explanations(client: TestClient) -> None:
    """p3 influences p1 and engages with p1; after p3 opts out, p1's explanation no longer names p3."""
    before = client.get("/v1/profiles/p1/influence").json()
    assert before["influencers"][0]["profile_id"] == "p3"
    assert client.post("/v1/profiles/p3/opt-out", headers=owner("p3")).status_code == 200
    after = client.get("/v1/profiles/p1/influence").json()
    assert after["influencers"] == []
    engagers = client.get("/v1/profiles/p1/explain").json()["top_engagers"]
    assert [e["handle"] for e in engagers] == ["alan"]


def test_opted_out_flag_hides_profile(client: TestClient, ddb: Any) -> None:
    put(ddb, ProfileRecord(profile_id="p2", name="Alan Turing", created_at=0, opted_out=True).to_item())
    problem(client.get("/v1/profiles/p2"), 404, "profile-not-found")
    assert client.get("/v1/search", params={"q": "alan"}).json()["hits"] == []


# --- right of access, opting back in ----------------------------------------------------------------


def test_export_then_opt_out_then_opt_in(client: TestClient, ddb: Any) -> None:
    """The owner exports everything stored about them (what they received and what they gave); after
    the opt-out only hashed markers remain; opting back in removes them."""
    assert endorse(client, "p2", "p1").status_code == 201  # p1 gives a +K
    put(ddb, {"PK": keys.edges_pk("twitter", "1001"), "SK": keys.engager_sk("twitter", "1003"), "c_like": 3})
    path = "/v1/profiles/p1/export"
    problem(client.get(path), 401, "missing-owner-token")
    problem(client.get(path, headers=owner("p2")), 403, "invalid-owner-token")
    r = client.get(path, headers=owner("p1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["profile_id"] == "p1"
    assert {it["SK"] for it in body["profile"]} >= {"META", "SCORE", "LINK#twitter#1001"}
    assert any(it["PK"] == keys.account_pk("twitter", "1001") for it in body["accounts"])
    assert any(it["SK"] == keys.engager_sk("twitter", "1003") for it in body["received"])
    given = {(it["PK"], it["SK"].split("#")[0]) for it in body["given"]}
    assert (keys.edges_pk("twitter", "1002"), "FROM") in given and (keys.profile_pk("p2"), "ENDORSE") in given

    assert client.post("/v1/profiles/p1/opt-out", headers=owner("p1")).status_code == 200
    problem(client.get(path, headers=owner("p1")), 404, "profile-not-found")
    # the +K p1 gave is erased too
    assert get_item(ddb, keys.edges_pk("twitter", "1002"), keys.engager_sk("twitter", "1001")) is None
    marker = get_item(ddb, keys.optout_pk("twitter", "1001"), keys.META_SK)
    assert marker is not None
    assert not any(s in str(marker) for s in ("p1", "1001", "twitter")), marker

    problem(client.post("/v1/profiles/p1/opt-in", headers=owner("p2")), 403, "invalid-owner-token")
    r = client.post("/v1/profiles/p1/opt-in", headers=owner("p1"))
    assert r.status_code == 200, r.text
    assert r.json()["markers_removed"] == 2
    assert get_item(ddb, keys.optout_pk("twitter", "1001"), keys.META_SK) is None
    assert get_item(ddb, keys.optout_pk("mastodon", "m1"), keys.META_SK) is None
