"""Shared pieces of the self-service tests: the usage plans of ``template.yaml`` in moto's API Gateway,
an app whose settings name them, and an admin client."""

from __future__ import annotations

from typing import Any

import boto3
from fastapi.testclient import TestClient

from functions.api.app import create_app
from functions.api.owner_tokens import issue
from functions.shared.settings import Settings
from renown.local.moto_stack import create_usage_plan
from renown.local.template import REGION
from tests.api.conftest import DEV_KEY, SIGNING
from tests.api.seed import NOW
from tests.conftest import properties, template

ADMIN_KEY = "test-admin-key"


def create_plans(extra: dict[str, dict[str, Any]] | None = None) -> tuple[Any, str]:
    """The template's usage plans (and ``extra`` ones, name -> properties) in moto's API Gateway;
    returns (client, the ``usage_plans`` setting)."""
    gateway = boto3.client("apigateway", region_name=REGION)
    plans = {}
    for logical_id, name in (("FreeUsagePlan", "free"), ("ProUsagePlan", "pro")):
        plan_name = template().resolve(properties(logical_id)["UsagePlanName"]) or ""
        create_usage_plan(gateway, plan_name, properties(logical_id))
        plans[name] = plan_name
    for name, props in (extra or {}).items():
        plans[name] = create_usage_plan(gateway, f"test-{name}", props)  # by id, as in AWS
    return gateway, ",".join(f"{k}={v}" for k, v in plans.items())


def selfservice_app(store: Any, clock: Any, extra_plans: dict[str, dict[str, Any]] | None = None) -> Any:
    gateway, plans = create_plans(extra_plans)
    settings = Settings(
        dev_api_key=DEV_KEY,
        widget_signing_key=SIGNING,
        daily_quota=50,
        table_name="renown",
        admin_key=ADMIN_KEY,
        usage_plans=plans,
    )
    app = create_app(store=store, settings=settings, clock=clock)
    app.state.gateway = gateway
    return app


def admin_client(app: Any) -> TestClient:
    return TestClient(app, headers={"x-renown-admin-key": ADMIN_KEY})


def token_of(pid: str, now: float = NOW, ttl_days: int = 365) -> str:
    """A fresh owner token of ``pid`` (as the ownership proof issues them)."""
    return issue(SIGNING.encode(), pid, now, ttl_days)[0]
