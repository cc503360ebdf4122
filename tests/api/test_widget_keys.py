"""Publishable widget keys are stored, owned and metered: created, listed and revoked with an API key;
their widget traffic counts on the owning key's daily usage and quota; a key can be limited to profiles;
stateless keys of old keep working, unmetered and deprecated, until their sunset."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from functions.api.deps import KEY_CACHE_S
from functions.api.security import hash_api_key, publishable_key
from functions.shared import keys
from functions.shared.records import ApiKeyRecord
from tests.api.conftest import SIGNING
from tests.api.seed import NOW, put
from tests.api.test_reads import problem

PAGE = "https://blog.example"
ACME, ACME_2, OTHER = "sk_acme_1", "sk_acme_2", "sk_other"


def keyed(app: Any, key: str) -> TestClient:
    return TestClient(app, headers={"x-api-key": key})


def usage_today(ddb: Any, api_key: str) -> int:
    item = ddb.get_item(
        TableName="renown",
        Key={"PK": {"S": keys.apikey_pk(hash_api_key(api_key))}, "SK": {"S": keys.usage_sk("2025-06-15")}},
    ).get("Item")
    return int(item["requests"]["N"]) if item else 0


def badge(anon: TestClient, profile: str, key: str, page: str = PAGE) -> Any:
    return anon.get(f"/v1/widgets/{profile}/badge.svg", params={"key": key}, headers={"origin": page})


def owners(ddb: Any, quota: int = 100) -> None:
    put(ddb, ApiKeyRecord(key_hash=hash_api_key(ACME), owner="acme", daily_quota=quota).to_item())
    put(ddb, ApiKeyRecord(key_hash=hash_api_key(ACME_2), owner="acme").to_item())
    put(ddb, ApiKeyRecord(key_hash=hash_api_key(OTHER), owner="other").to_item())


def test_a_widget_key_is_owned_limited_and_metered(app: Any, anon: TestClient, ddb: Any) -> None:
    owners(ddb)
    acme = keyed(app, ACME)
    r = acme.post("/v1/widget-keys", json={"origins": ["https://Blog.example/"], "profiles": ["p1"]})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["key"].startswith("pk_wk_") and created["owner"] == "acme"
    assert created["origins"] == [PAGE] and created["profiles"] == ["p1"] and created["revoked_at"] is None
    stored = ddb.get_item(
        TableName="renown", Key={"PK": {"S": keys.widget_key_pk(created["key_id"])}, "SK": {"S": "META"}}
    )["Item"]
    assert stored["owner_key_hash"]["S"] == hash_api_key(ACME)

    # the same owner's other API key lists it; another owner does not see it
    assert [k["key_id"] for k in keyed(app, ACME_2).get("/v1/widget-keys").json()["keys"]] == [
        created["key_id"]
    ]
    assert keyed(app, OTHER).get("/v1/widget-keys").json()["keys"] == []

    before = usage_today(ddb, ACME)
    for _ in range(3):
        r = badge(anon, "p1", created["key"])
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == PAGE
        assert "deprecation" not in r.headers
    assert usage_today(ddb, ACME) == before + 3, "widget traffic is metered on the owner's key"

    p = problem(badge(anon, "p2", created["key"]), 403, "invalid-widget-key")
    assert "p2" in p["detail"]
    problem(badge(anon, "p1", created["key"], page="https://evil.example"), 403, "invalid-widget-key")
    problem(badge(anon, "p1", "pk_wk_" + "0" * 24), 403, "invalid-widget-key")
    assert usage_today(ddb, ACME) == before + 3, "refused requests are not counted"

    # only its owner revokes it; pages using it are refused from then on
    problem(keyed(app, OTHER).delete(f"/v1/widget-keys/{created['key_id']}"), 404, "not-found")
    r = keyed(app, ACME_2).delete(f"/v1/widget-keys/{created['key_id']}")
    assert r.status_code == 200 and r.json()["revoked_at"] == NOW
    problem(badge(anon, "p1", created["key"]), 403, "invalid-widget-key")


def test_revocation_reaches_other_containers_within_the_cache_time(
    app: Any, anon: TestClient, ddb: Any, clock: Any
) -> None:
    owners(ddb)
    key = keyed(app, ACME).post("/v1/widget-keys", json={"origins": [PAGE]}).json()
    assert badge(anon, "p3", key["key"]).status_code == 200  # no profiles: every profile
    # revoked behind this container's back (another container answered the DELETE)
    ddb.update_item(
        TableName="renown",
        Key={"PK": {"S": keys.widget_key_pk(key["key_id"])}, "SK": {"S": "META"}},
        UpdateExpression="SET revoked_at = :t",
        ExpressionAttributeValues={":t": {"N": str(NOW)}},
    )
    clock.now += KEY_CACHE_S + 1
    problem(badge(anon, "p3", key["key"]), 403, "invalid-widget-key")


def test_widget_traffic_counts_against_the_owners_quota(app: Any, anon: TestClient, ddb: Any) -> None:
    owners(ddb, quota=4)
    acme = keyed(app, ACME)
    key = acme.post("/v1/widget-keys", json={"origins": [PAGE]}).json()["key"]  # request 1
    assert [badge(anon, "p1", key).status_code for _ in range(3)] == [200] * 3  # requests 2-4
    r = problem(badge(anon, "p1", key), 429, "quota-exceeded")
    assert r["status"] == 429
    problem(acme.get("/v1/profiles/p1/score"), 429, "quota-exceeded")  # the same counter


def test_a_revoked_api_key_takes_its_widget_keys_down(
    app: Any, anon: TestClient, ddb: Any, clock: Any
) -> None:
    owners(ddb)
    key = keyed(app, ACME).post("/v1/widget-keys", json={"origins": [PAGE]}).json()["key"]
    put(ddb, ApiKeyRecord(key_hash=hash_api_key(ACME), owner="acme", revoked=True).to_item())
    clock.now += KEY_CACHE_S + 1
    problem(badge(anon, "p1", key), 403, "invalid-widget-key")


def test_widget_key_requests_are_validated(app: Any, ddb: Any) -> None:
    owners(ddb)
    acme = keyed(app, ACME)
    problem(acme.post("/v1/widget-keys", json={"origins": ["not a url"]}), 422, "validation-error")
    problem(acme.post("/v1/widget-keys", json={"origins": []}), 422, "validation-error")
    problem(
        acme.post("/v1/widget-keys", json={"origins": [PAGE], "profiles": ["no spaces"]}),
        422,
        "validation-error",
    )
    problem(acme.delete("/v1/widget-keys/not-an-id"), 422, "validation-error")


def test_stateless_keys_are_deprecated_unmetered_then_retired(
    app: Any, anon: TestClient, ddb: Any, clock: Any, settings: Any
) -> None:
    legacy = publishable_key(SIGNING.encode(), [PAGE])
    r = badge(anon, "p1", legacy)
    assert r.status_code == 200
    assert r.headers["deprecation"].startswith("@") and r.headers["sunset"].endswith("GMT")
    assert not ddb.scan(
        TableName="renown",
        FilterExpression="begins_with(SK, :u)",
        ExpressionAttributeValues={":u": {"S": "USAGE#"}},
    )["Items"]
    clock.now = settings.legacy_widget_keys_sunset
    p = problem(badge(anon, "p1", legacy), 403, "invalid-widget-key")
    assert "/v1/widget-keys" in p["detail"]
