"""Fixtures of the API tests: the app over the seeded single table, a fixed clock, keyed clients."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.app import create_app
from functions.api.store import DynamoApiTable
from functions.shared.settings import Settings
from tests.api.seed import NOW, seed

DEV_KEY = "test-dev-key"
SIGNING = "test-widget-signing-key"


@pytest.fixture
def settings() -> Settings:
    return Settings(dev_api_key=DEV_KEY, widget_signing_key=SIGNING, daily_quota=50, table_name="renown")


@pytest.fixture
def ddb(ddb: Any) -> Any:
    """The single table on moto (root conftest), seeded with the API's test people."""
    seed(ddb)
    return ddb


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store(ddb: Any) -> DynamoApiTable:
    return DynamoApiTable(client=ddb, table_name="renown")


@pytest.fixture
def app(store: DynamoApiTable, settings: Settings, clock: Clock) -> Any:
    return create_app(store=store, settings=settings, clock=clock)


@pytest.fixture
def client(app: Any) -> TestClient:
    return TestClient(app, headers={"x-api-key": DEV_KEY})


@pytest.fixture
def anon(app: Any) -> TestClient:
    return TestClient(app)
