"""Brands' perks through the API: only brand keys publish, each owner sees and changes only their own,
a cap per owner, the count of profiles that qualify, claims with the owner token (once), and opt-out
erasing a person's claims."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api import perks
from functions.api.security import hash_api_key
from functions.shared.records import ApiKeyRecord, ShiftReportRecord
from tests.api.seed import NOW, put
from tests.api.selfservice import token_of
from tests.api.test_reads import problem

PERK = {"brand": "Acme", "title": "Beta access", "min_score": 60, "expires_at": NOW + 86_400}


@pytest.fixture
def keys_(ddb: Any) -> dict[str, dict[str, str]]:
    out = {}
    for key, owner, roles in (
        ("rk_live_acme", "acme", ["brand"]),
        ("rk_live_beta", "beta", ["brand"]),
        ("rk_live_plain", "plain", []),
    ):
        rec = ApiKeyRecord(
            key_hash=hash_api_key(key),
            owner=owner,
            plan="pro",
            roles=roles,
            prefix=key[:12],
            daily_quota=1000,
        )
        put(ddb, rec.to_item())
        out[owner] = {"x-api-key": key}
    return out


def owner(pid: str) -> dict[str, str]:
    return {"x-renown-owner-token": token_of(pid)}


def publish(anon: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = anon.post("/v1/perks", json={**PERK, **body}, headers=headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_only_brand_keys_publish_and_each_owner_manages_their_own(anon: TestClient, keys_: Any) -> None:
    problem(anon.post("/v1/perks", json=PERK, headers=keys_["plain"]), 403, "brand-role-required")
    problem(anon.get("/v1/perks", headers=keys_["plain"]), 403, "brand-role-required")
    mine = publish(anon, keys_["acme"])
    theirs = publish(anon, keys_["beta"], title="Beta's")
    listed = anon.get("/v1/perks", headers=keys_["acme"]).json()
    assert listed["owner"] == "acme" and [p["perk_id"] for p in listed["perks"]] == [mine["perk_id"]]
    # another owner's perk is not found (not disclosed)
    url = f"/v1/perks/{theirs['perk_id']}"
    problem(anon.patch(url, json={"min_score": 1}, headers=keys_["acme"]), 404, "perk-not-found")
    problem(anon.delete(url, headers=keys_["acme"]), 404, "perk-not-found")
    problem(anon.get(url + "/claims", headers=keys_["acme"]), 404, "perk-not-found")
    changed = anon.patch(
        f"/v1/perks/{mine['perk_id']}", json={"min_score": 70, "title": "Gold"}, headers=keys_["acme"]
    )
    assert changed.status_code == 200 and (changed.json()["min_score"], changed.json()["title"]) == (
        70.0,
        "Gold",
    )
    problem(
        anon.patch(f"/v1/perks/{mine['perk_id']}", json={"expires_at": NOW - 1}, headers=keys_["acme"]),
        422,
        "validation-error",
    )
    # p1 (63.2) no longer qualifies for the changed perk; p3 (71.5) does
    assert mine["perk_id"] not in {
        p["perk_id"] for p in anon.get("/v1/profiles/p1/perks", headers=keys_["plain"]).json()["perks"]
    }
    assert mine["perk_id"] in {
        p["perk_id"] for p in anon.get("/v1/profiles/p3/perks", headers=keys_["plain"]).json()["perks"]
    }
    assert anon.delete(f"/v1/perks/{mine['perk_id']}", headers=keys_["acme"]).status_code == 200
    assert anon.get("/v1/perks", headers=keys_["acme"]).json()["perks"] == []
    assert [p["perk_id"] for p in anon.get("/v1/perks", headers=keys_["beta"]).json()["perks"]] == [
        theirs["perk_id"]
    ]


def test_a_cap_per_owner(anon: TestClient, keys_: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(perks, "PERKS_PER_OWNER", 2)
    publish(anon, keys_["acme"])
    publish(anon, keys_["acme"])
    assert (
        "2 perks"
        in problem(anon.post("/v1/perks", json=PERK, headers=keys_["acme"]), 409, "perk-limit")["detail"]
    )
    publish(anon, keys_["beta"])  # another owner's cap is their own


def test_how_many_profiles_qualify(anon: TestClient, keys_: Any, ddb: Any) -> None:
    topic = publish(anon, keys_["acme"], topic="python", min_score=50)
    body = anon.get(f"/v1/perks/{topic['perk_id']}/qualifying", headers=keys_["acme"]).json()
    assert (body["profiles"], body["exact"], body["algorithm_version"]) == (2, True, "v2")  # p1 63.2, p3 71.5
    edges = [float(x) for x in range(0, 101, 5)]
    counts = [0] * 11 + [7, 5, 3, 1, 0, 0, 0, 0, 0]  # 7 in [55, 60), 5 in [60, 65), 3, then 1 in [70, 75)
    report = {"score_histogram": {"edges": edges, "new": counts, "old": counts}}
    put(ddb, ShiftReportRecord(version="v2", run_id="r", report=report).to_item())
    wide = publish(anon, keys_["acme"], min_score=60)
    body = anon.get(f"/v1/perks/{wide['perk_id']}/qualifying", headers=keys_["acme"]).json()
    assert (body["profiles"], body["exact"], body["method"]) == (5 + 3 + 1, False, "score histogram")


def test_claims_once_with_the_owner_token(anon: TestClient, client: TestClient, keys_: Any, ddb: Any) -> None:
    perk = publish(anon, keys_["acme"])
    url = f"/v1/profiles/p1/perks/{perk['perk_id']}/claim"
    problem(client.post(url), 401, "missing-owner-token")
    problem(client.post(url, headers=owner("p2")), 403, "invalid-owner-token")
    r = client.post(url, headers=owner("p1"))
    assert r.status_code == 201, r.text
    assert (r.json()["profile_id"], r.json()["score"]) == ("p1", 63.2)
    assert "p1" in problem(client.post(url, headers=owner("p1")), 409, "perk-already-claimed")["detail"]
    body = problem(
        client.post(f"/v1/profiles/p2/perks/{perk['perk_id']}/claim", headers=owner("p2")),
        403,
        "perk-not-eligible",
    )
    assert "at least 60" in body["detail"]
    problem(
        client.post("/v1/profiles/p1/perks/perk_0123456789abcdef/claim", headers=owner("p1")),
        404,
        "perk-not-found",
    )
    short = publish(anon, keys_["acme"], expires_at=NOW + 1)
    assert (
        client.post(f"/v1/profiles/p3/perks/{short['perk_id']}/claim", headers=owner("p3")).status_code == 201
    )
    claims = anon.get(f"/v1/perks/{perk['perk_id']}/claims", headers=keys_["acme"]).json()["claims"]
    assert [(c["profile_id"], c["claimed_at"]) for c in claims] == [("p1", NOW)]
    # opting out erases the person's claims with the rest
    assert client.post("/v1/profiles/p1/opt-out", headers=owner("p1")).status_code == 200
    assert anon.get(f"/v1/perks/{perk['perk_id']}/claims", headers=keys_["acme"]).json()["claims"] == []


def test_an_expired_perk_cannot_be_claimed(
    anon: TestClient, client: TestClient, keys_: Any, clock: Any
) -> None:
    perk = publish(anon, keys_["acme"], expires_at=NOW + 10)
    clock.now += 11
    problem(
        client.post(f"/v1/profiles/p3/perks/{perk['perk_id']}/claim", headers=owner("p3")),
        410,
        "perk-expired",
    )
