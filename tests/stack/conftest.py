"""One local stack (moto server process + in-process handlers) shared by the stack tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.shared.settings import get_settings
from renown.local.demo_runner import DemoRunner
from renown.local.stack import LocalStack


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(port=0)
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def runner(stack: LocalStack) -> DemoRunner:
    return DemoRunner(stack, get_settings(), Path("/nonexistent"))


@pytest.fixture()
def api_headers() -> dict[str, Any]:
    return {"x-api-key": get_settings().dev_api_key.get_secret_value()}
