"""API keys: 401 without or with a wrong key, stored keys (SHA-256), metering, 429 over quota, usage."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from functions.api.security import hash_api_key
from functions.shared.records import ApiKeyRecord
from tests.api.conftest import DEV_KEY
from tests.api.seed import put
from tests.api.test_reads import problem


def test_missing_and_invalid_key(anon: TestClient) -> None:
    problem(anon.get("/v1/profiles/p1/score"), 401, "missing-api-key")
    problem(anon.get("/v1/profiles/p1/score", headers={"x-api-key": "nope"}), 401, "invalid-api-key")


def test_every_v1_route_but_widgets_needs_a_key(app: Any, anon: TestClient) -> None:
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/v1/") or path.startswith("/v1/widgets/"):
            continue
        concrete = path.replace("{profile_id}", "p1").replace("{network}", "twitter")
        concrete = (
            concrete.replace("{handle}", "ada").replace("{account_id}", "1001").replace("{topic}", "python")
        )
        for method in route.methods:  # type: ignore[attr-defined]
            r = anon.request(method, concrete)
            assert r.status_code == 401, (method, concrete, r.status_code)


def test_stored_key_hashed(anon: TestClient, ddb: Any) -> None:
    put(ddb, ApiKeyRecord(key_hash=hash_api_key("sk_live_abc"), owner="acme", daily_quota=3).to_item())
    r = anon.get("/v1/profiles/p1/score", headers={"x-api-key": "sk_live_abc"})
    assert r.status_code == 200
    put(ddb, ApiKeyRecord(key_hash=hash_api_key("sk_revoked"), revoked=True).to_item())
    problem(anon.get("/v1/profiles/p1/score", headers={"x-api-key": "sk_revoked"}), 401, "invalid-api-key")


def test_quota_429_and_usage(anon: TestClient, ddb: Any, clock: Any) -> None:
    put(ddb, ApiKeyRecord(key_hash=hash_api_key("sk_small"), daily_quota=3).to_item())
    h = {"x-api-key": "sk_small"}
    assert [anon.get("/v1/profiles/p1/score", headers=h).status_code for _ in range(3)] == [200, 200, 200]
    body = problem(anon.get("/v1/profiles/p1/score", headers=h), 429, "quota-exceeded")
    assert "3 of 3" in body["detail"]
    r = anon.get("/v1/usage", headers=h)
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 12 * 3600
    clock.now += 86_400  # next UTC day: a fresh quota
    usage = anon.get("/v1/usage", headers=h).json()
    assert usage["key_id"] == hash_api_key("sk_small")[:12]
    assert usage["daily_quota"] == 3
    assert usage["days"] == [  # metered before the quota check: refused requests count too
        {"day": "2025-06-15", "requests": 5, "groups": {"profiles": 4, "usage": 1}},
        {"day": "2025-06-16", "requests": 1, "groups": {"usage": 1}},
    ]
    assert (usage["total"], usage["groups"]) == (6, {"profiles": 4, "usage": 2})


def test_dev_key_uses_settings_quota(client: TestClient) -> None:
    for _ in range(50):
        assert client.get("/v1/profiles/p1/score").status_code == 200
    problem(client.get("/v1/profiles/p1/score"), 429, "quota-exceeded")
    assert DEV_KEY


def test_a_revoked_key_stops_working_within_a_minute(anon: TestClient, ddb: Any, clock: Any) -> None:
    from functions.api.deps import KEY_CACHE_S

    record = ApiKeyRecord(key_hash=hash_api_key("sk_live_gone"), owner="acme", daily_quota=100)
    put(ddb, record.to_item())
    h = {"x-api-key": "sk_live_gone"}
    assert anon.get("/v1/profiles/p1/score", headers=h).status_code == 200
    put(ddb, record.model_copy(update={"revoked": True}).to_item())
    assert KEY_CACHE_S <= 60
    clock.now += KEY_CACHE_S + 1
    problem(anon.get("/v1/profiles/p1/score", headers=h), 401, "invalid-api-key")


def test_the_key_cache_is_bounded() -> None:
    from functions.api.deps import Caches

    caches = Caches()
    for i in range(10_000):
        caches.api_keys.put((f"k{i}",), (None,), 0.0)
    assert len(caches.api_keys._items) <= caches.api_keys.max_items
