"""The Lambda entry point: Mangum with a REST (v1) API Gateway event."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from functions.api.security import publishable_key
from tests.api.conftest import DEV_KEY, SIGNING


def rest_event(path: str, headers: dict[str, str], query: dict[str, str] | None = None) -> dict[str, Any]:
    """A REST v1 proxy event; headers in both maps (Mangum reads multiValueHeaders when present)."""
    return {
        "resource": "/v1/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.removeprefix("/v1/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/v1/{proxy+}",
            "httpMethod": "GET",
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "req-1",
            "identity": {"sourceIp": "203.0.113.9", "apiKey": headers.get("x-api-key")},
            "apiId": "abc123",
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def handler_module(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from functions.shared import aws
    from functions.shared.settings import get_settings

    monkeypatch.setenv("RENOWN_DEV_API_KEY", DEV_KEY)
    monkeypatch.setenv("RENOWN_WIDGET_SIGNING_KEY", SIGNING)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    get_settings.cache_clear()
    aws.reset_clients()
    import functions.api.handler as module

    module = importlib.reload(module)
    yield module
    get_settings.cache_clear()
    aws.reset_clients()


def test_rest_v1_event_svg_as_text(handler_module: Any) -> None:
    page = "https://blog.example"
    key = publishable_key(SIGNING.encode(), [page])
    out = handler_module.handler(rest_event("/v1/widgets/p1/badge.svg", {"origin": page}, {"key": key}), None)
    assert out["statusCode"] == 200
    assert out["isBase64Encoded"] is False
    assert out["body"].startswith("<svg")
    headers = {k.lower(): v for k, v in (out.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (out.get("multiValueHeaders") or {}).items()}
    merged = {**headers, **{k: v[0] for k, v in multi.items()}}
    assert merged["content-type"] == "image/svg+xml"
    assert merged["access-control-allow-origin"] == page
    etag = merged["etag"]
    again = handler_module.handler(
        rest_event("/v1/widgets/p1/badge.svg", {"origin": page, "if-none-match": etag}, {"key": key}), None
    )
    assert again["statusCode"] == 304


def test_rest_v1_event_json_and_problem(handler_module: Any) -> None:
    out = handler_module.handler(rest_event("/v1/profiles/p1/score", {"x-api-key": DEV_KEY}), None)
    assert out["statusCode"] == 200 and not out["isBase64Encoded"]
    assert json.loads(out["body"])["score"] == 63.2
    out = handler_module.handler(rest_event("/v1/profiles/p1/score", {}), None)
    assert out["statusCode"] == 401 and not out["isBase64Encoded"]
    assert json.loads(out["body"])["type"].endswith("/missing-api-key")


def test_mangum_configuration(handler_module: Any) -> None:
    assert handler_module.handler.lifespan == "off"
    assert "image/svg+xml" in handler_module.handler.config["text_mime_types"]


def test_api_does_not_import_numba() -> None:
    import subprocess
    import sys

    code = (
        "import sys, functions.api.handler; "
        "print(any(m.split('.')[0] in ('numba', 'numpy', 'core') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_signed_widget_urls_use_the_scheme_the_request_came_in_with(handler_module: Any, scheme: str) -> None:
    headers = {"x-api-key": DEV_KEY, "host": "127.0.0.1:8000", "x-forwarded-proto": scheme}
    event = rest_event("/v1/profiles/p1/widget-urls", headers) | {"httpMethod": "POST"}
    out = handler_module.handler(event, None)
    assert out["statusCode"] == 200, out["body"]
    urls = json.loads(out["body"])
    assert urls["badge"].startswith(f"{scheme}://127.0.0.1:8000/v1/widgets/p1/badge.svg?exp=")
    assert urls["card"].startswith(f"{scheme}://127.0.0.1:8000/v1/widgets/p1/card?exp=")


@pytest.mark.parametrize(
    ("failure", "status", "slug"),
    [(RuntimeError("a bug"), 500, "internal-error"), ("client-error", 503, "store-unavailable")],
)
def test_unexpected_errors_are_problem_json_through_mangum(
    handler_module: Any, monkeypatch: pytest.MonkeyPatch, failure: Any, status: int, slug: str
) -> None:
    from botocore.exceptions import ClientError

    if failure == "client-error":
        failure = ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "GetItem")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(handler_module.app.state.store, "get_score", broken)
    out = handler_module.handler(rest_event("/v1/profiles/p1/score", {"x-api-key": DEV_KEY}), None)
    assert out["statusCode"] == status
    headers = {k.lower(): v for k, v in (out.get("multiValueHeaders") or {}).items()}
    headers |= {k.lower(): [v] for k, v in (out.get("headers") or {}).items()}
    assert headers["content-type"] == ["application/problem+json"]
    assert json.loads(out["body"])["type"].endswith(slug)
