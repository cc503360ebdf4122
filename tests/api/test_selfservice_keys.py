"""Self-service API keys through the admin API and ``renown keys``: usage plans in API Gateway (moto),
keys shown once and stored hashed, test and live prefixes, quota from the plan, revocation and rotation."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from functions.api.deps import KEY_CACHE_S
from functions.api.routers.admin import iam_caller
from functions.api.security import hash_api_key
from functions.shared import keys
from renown.cli import build_parser
from renown.commands import keys as keys_command
from tests.api.selfservice import admin_client, selfservice_app
from tests.api.test_actions import get_item
from tests.api.test_reads import problem

TINY = {"Quota": {"Limit": 2, "Period": "DAY"}, "Throttle": {"BurstLimit": 1, "RateLimit": 1}}


@pytest.fixture
def app(store: Any, clock: Any) -> Any:
    return selfservice_app(store, clock, extra_plans={"tiny": TINY})


@pytest.fixture
def admin(app: Any) -> TestClient:
    return admin_client(app)


def create(admin: TestClient, **body: Any) -> dict[str, Any]:
    r = admin.post("/admin/v1/keys", json={"owner": "acme", "plan": "free", **body})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def score(anon: TestClient, key: str) -> Any:
    return anon.get("/v1/profiles/p1/score", headers={"x-api-key": key})


def test_create_registers_the_key_in_the_plan_and_the_app(
    admin: TestClient, anon: TestClient, ddb: Any, app: Any
) -> None:
    out = create(admin, roles=["brand"])
    key = out["api_key"]
    assert key.startswith("rk_live_") and len(key) == 40
    assert out["key_id"] == hash_api_key(key)[:12] and out["prefix"] == key[:12]
    assert (out["owner"], out["plan"], out["mode"], out["roles"]) == ("acme", "free", "live", ["brand"])
    assert out["daily_quota"] == 1000  # the template's free plan
    # API Gateway: the key, with its value, is in the free plan
    gateway = app.state.gateway
    plan = next(p for p in gateway.get_usage_plans()["items"] if p["name"] == "renown-free")
    in_plan = gateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [(k["id"], k["value"]) for k in in_plan] == [(out["gateway_key_id"], key)]
    # the app: stored under the hash only, never the key
    item = get_item(ddb, keys.apikey_pk(hash_api_key(key)), keys.META_SK)
    assert item is not None and key not in json.dumps(item, default=str)
    assert score(anon, key).status_code == 200
    listed = admin.get("/admin/v1/keys", params={"owner": "acme"}).json()
    assert [k["key_id"] for k in listed["keys"]] == [out["key_id"]]
    assert "api_key" not in listed["keys"][0] and key not in json.dumps(listed)


def test_test_and_live_keys_are_told_apart_by_prefix(admin: TestClient) -> None:
    test_key = create(admin, mode="test")
    live_key = create(admin, owner="beta", plan="pro")
    assert test_key["api_key"].startswith("rk_test_") and test_key["mode"] == "test"
    assert live_key["api_key"].startswith("rk_live_") and live_key["daily_quota"] == 100_000
    everyone = admin.get("/admin/v1/keys").json()["keys"]
    assert {(k["owner"], k["mode"]) for k in everyone} == {("acme", "test"), ("beta", "live")}


def test_bad_admin_requests_are_precise_problems(admin: TestClient, anon: TestClient) -> None:
    body = problem(admin.post("/admin/v1/keys", json={"owner": "acme", "plan": "gold"}), 422, "unknown-plan")
    assert "free" in body["detail"] and "pro" in body["detail"]
    problem(admin.post("/admin/v1/keys", json={"owner": "Acme Inc", "plan": "free"}), 422, "validation-error")
    problem(
        anon.post("/admin/v1/keys", json={"owner": "acme", "plan": "free"}), 401, "missing-admin-credential"
    )
    wrong = {"x-renown-admin-key": "guess"}
    problem(anon.get("/admin/v1/keys", headers=wrong), 403, "invalid-admin-credential")
    # the API key of a customer opens nothing of the admin API
    key = create(admin)["api_key"]
    problem(anon.get("/admin/v1/keys", headers={"x-api-key": key}), 401, "missing-admin-credential")
    problem(admin.delete("/admin/v1/keys/0123456789ab"), 404, "api-key-not-found")


def test_the_plans_quota_is_enforced_by_the_app(admin: TestClient, anon: TestClient) -> None:
    key = create(admin, plan="tiny")["api_key"]
    assert [score(anon, key).status_code for _ in range(2)] == [200, 200]
    assert "2 of 2" in problem(score(anon, key), 429, "quota-exceeded")["detail"]


def test_revoke_stops_the_key_within_a_minute_and_disables_it_in_api_gateway(
    admin: TestClient, anon: TestClient, clock: Any, app: Any
) -> None:
    out = create(admin)
    assert score(anon, out["api_key"]).status_code == 200
    r = admin.delete(f"/admin/v1/keys/{out['key_id']}")
    assert r.status_code == 200 and r.json()["revoked"] is True
    assert app.state.gateway.get_api_key(apiKey=out["gateway_key_id"])["enabled"] is False
    clock.now += KEY_CACHE_S + 1
    assert KEY_CACHE_S + 1 <= 60
    problem(score(anon, out["api_key"]), 401, "invalid-api-key")
    problem(admin.delete(f"/admin/v1/keys/{out['key_id']}"), 409, "api-key-revoked")


def test_rotate_gives_a_new_key_like_the_old_and_revokes_the_old(
    admin: TestClient, anon: TestClient, clock: Any
) -> None:
    old = create(admin, mode="test", plan="pro", roles=["brand"])
    new = admin.post(f"/admin/v1/keys/{old['key_id']}/rotate")
    assert new.status_code == 201, new.text
    fresh = new.json()
    assert fresh["api_key"] != old["api_key"] and fresh["api_key"].startswith("rk_test_")
    assert (fresh["owner"], fresh["plan"], fresh["roles"]) == ("acme", "pro", ["brand"])
    clock.now += KEY_CACHE_S + 1
    problem(score(anon, old["api_key"]), 401, "invalid-api-key")
    assert score(anon, fresh["api_key"]).status_code == 200
    listed = {k["key_id"]: k for k in admin.get("/admin/v1/keys", params={"owner": "acme"}).json()["keys"]}
    assert listed[old["key_id"]]["replaced_by"] == fresh["key_id"] and listed[old["key_id"]]["revoked"]


def _cli(app: Any, capsys: Any, *argv: str) -> dict[str, Any]:
    args: argparse.Namespace = build_parser().parse_args(["keys", *argv, "--admin-key", "test-admin-key"])
    assert keys_command.run(args, session=TestClient(app)) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_the_keys_command(app: Any, anon: TestClient, clock: Any, capsys: Any) -> None:
    created = _cli(app, capsys, "create", "--owner", "acme", "--plan", "pro", "--role", "brand")
    assert created["api_key"].startswith("rk_live_") and created["roles"] == ["brand"]
    assert [k["key_id"] for k in _cli(app, capsys, "list", "--owner", "acme")["keys"]] == [created["key_id"]]
    rotated = _cli(app, capsys, "rotate", created["key_id"])
    revoked = _cli(app, capsys, "revoke", rotated["key_id"])
    assert revoked["revoked"] is True
    clock.now += KEY_CACHE_S + 1
    problem(score(anon, rotated["api_key"]), 401, "invalid-api-key")
    args = build_parser().parse_args(
        ["keys", "create", "--owner", "acme", "--plan", "gold", "--admin-key", "x"]
    )
    assert keys_command.run(args, session=TestClient(app)) == 1


def test_the_iam_route_identifies_the_caller() -> None:
    def request(event: dict[str, Any]) -> Request:
        return Request({"type": "http", "path": "/admin/v1/keys", "headers": [], "aws.event": event})

    signed = {
        "resource": "/admin/{proxy+}",
        "requestContext": {"identity": {"userArn": "arn:aws:iam::1:user/ops"}},
    }
    assert iam_caller(request(signed)) == "arn:aws:iam::1:user/ops"
    # the same identity on another route (no IAM there) is not an admin
    assert iam_caller(request({**signed, "resource": "/v1/{proxy+}"})) is None
    assert iam_caller(request({"resource": "/admin/{proxy+}", "requestContext": {"identity": {}}})) is None
