"""Usage a customer is billed on: ``GET /v1/usage?from=&to=`` per day and route group, and the monthly
report per owner (admin API and ``renown usage report``), from the counters the quota reads."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from renown.cli import build_parser
from renown.commands import usage as usage_command
from tests.api.selfservice import admin_client, selfservice_app
from tests.api.test_reads import problem


@pytest.fixture
def app(store: Any, clock: Any) -> Any:
    return selfservice_app(store, clock)


def key(app: Any, owner: str, **body: Any) -> dict[str, str]:
    r = admin_client(app).post("/admin/v1/keys", json={"owner": owner, "plan": "pro", **body})
    assert r.status_code == 201, r.text
    return {"x-api-key": r.json()["api_key"]}


def traffic(anon: TestClient, clock: Any, h: dict[str, str]) -> None:
    """Day 1: 3 score reads and 1 identity lookup; day 2: 2 score reads (the month of NOW: June 2025)."""
    for _ in range(3):
        assert anon.get("/v1/profiles/p1/score", headers=h).status_code == 200
    assert anon.get("/v1/identity/twitter/ada", headers=h).status_code == 200
    clock.now += 86_400
    for _ in range(2):
        assert anon.get("/v1/profiles/p2", headers=h).status_code == 200
    clock.now -= 86_400


def test_usage_per_day_and_route_group(app: Any, anon: TestClient, clock: Any) -> None:
    h = key(app, "acme")
    traffic(anon, clock, h)
    clock.now += 2 * 86_400
    r = anon.get("/v1/usage", params={"from": "2025-06-15", "to": "2025-06-16"}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["owner"], body["plan"], body["first_day"], body["last_day"]) == (
        "acme",
        "pro",
        "2025-06-15",
        "2025-06-16",
    )
    assert body["days"] == [
        {"day": "2025-06-15", "requests": 4, "groups": {"identity": 1, "profiles": 3}},
        {"day": "2025-06-16", "requests": 2, "groups": {"profiles": 2}},
    ]
    assert (body["total"], body["groups"]) == (6, {"identity": 1, "profiles": 5})
    problem(
        anon.get("/v1/usage", params={"from": "2025-06-16", "to": "2025-06-15"}, headers=h),
        422,
        "validation-error",
    )
    problem(anon.get("/v1/usage", params={"from": "2025-13-01"}, headers=h), 422, "validation-error")


def test_monthly_report_per_owner_in_json_and_csv(
    app: Any, anon: TestClient, clock: Any, capsys: Any
) -> None:
    traffic(anon, clock, key(app, "acme"))
    traffic(anon, clock, key(app, "acme"))  # a second key of the same owner adds up
    traffic(anon, clock, key(app, "acme", mode="test"))  # test keys: reported apart, not billable
    beta = key(app, "beta", plan="free")
    assert anon.get("/v1/profiles/p3/score", headers=beta).status_code == 200
    key(app, "idle")  # no requests: not in the report
    admin = admin_client(app)
    report = admin.get("/admin/v1/usage-report", params={"month": "2025-06"}).json()
    rows = {(o["owner"], o["billable"]): o for o in report["owners"]}
    assert set(rows) == {("acme", True), ("acme", False), ("beta", True)}
    assert (rows[("acme", True)]["requests"], len(rows[("acme", True)]["keys"])) == (12, 2)
    assert rows[("acme", True)]["groups"] == {"identity": 2, "profiles": 10}
    assert rows[("acme", False)]["requests"] == 6 and rows[("beta", True)]["plan"] == "free"
    assert admin.get("/admin/v1/usage-report", params={"month": "2025-07"}).json()["owners"] == []
    problem(admin.get("/admin/v1/usage-report", params={"month": "2025-6"}), 422, "validation-error")
    # the command: CSV by default
    args = build_parser().parse_args(
        ["usage", "report", "--month", "2025-06", "--admin-key", "test-admin-key"]
    )
    assert usage_command.run(args, session=TestClient(app)) == 0
    lines = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["owner"], r["billable"], r["requests"], r["group_profiles"]) for r in lines] == [
        ("acme", "true", "12", "10"),
        ("acme", "false", "6", "5"),
        ("beta", "true", "1", "1"),
    ]
    args = build_parser().parse_args(
        ["usage", "report", "--month", "2025-06", "--format", "json", "--admin-key", "test-admin-key"]
    )
    assert usage_command.run(args, session=TestClient(app)) == 0
    assert json.loads(capsys.readouterr().out) == report
