"""Schemathesis against /openapi.json, in process over moto: no operation answers 5xx, and every
response conforms to the documented schema and content type."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from functions.api.app import create_app
from functions.api.store import DynamoApiTable
from functions.shared.settings import Settings
from tests.api.conftest import DEV_KEY, SIGNING

schemathesis = pytest.importorskip("schemathesis")
checks = pytest.importorskip("schemathesis.checks")
pytestmark = pytest.mark.slow


def test_no_server_errors_and_responses_match_schema(ddb: Any) -> None:
    app = create_app(
        store=DynamoApiTable(client=ddb, table_name="renown"),
        settings=Settings(dev_api_key=DEV_KEY, widget_signing_key=SIGNING, daily_quota=10**9),
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            response = case.call(headers={"x-api-key": DEV_KEY})
            label = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, (label, response.status_code, response.text)
            # semantic rules beyond the schema (compare's id list, perk expiry, widget keys) make some
            # schema-valid requests 4xx on purpose: everything else is checked
            case.validate_response(response, excluded_checks=[checks.positive_data_acceptance])
            seen.setdefault(f"{case.operation.method.upper()} {case.operation.path}", set()).add(
                response.status_code
            )

        check()
    assert len(seen) >= 20
