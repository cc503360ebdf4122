"""The local API Gateway builds REST (v1) proxy events the way API Gateway does."""

from __future__ import annotations

import base64
from typing import Any

from werkzeug.test import Client

from renown.local.gateway import LocalGateway, Route


def _echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _echo.events.append(event)  # type: ignore[attr-defined]
    return {"statusCode": 201, "headers": {"content-type": "text/plain"}, "body": "ok"}


_echo.events = []  # type: ignore[attr-defined]


def _svg(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "multiValueHeaders": {"content-type": ["image/svg+xml"], "etag": ['"abc"']},
        "body": base64.b64encode(b"<svg/>").decode(),
        "isBase64Encoded": True,
    }


def make_gateway() -> LocalGateway:
    routes = [
        Route.of("/webhooks/{network}", "ANY", "receiver"),
        Route.of("/v1/{proxy+}", "ANY", "api"),
        Route.of("/v1/widgets/{proxy+}", "GET", "widgets"),
    ]
    cors = {"AllowOrigin": "'*'", "AllowMethods": "'GET,POST'"}
    return LocalGateway(routes, {"receiver": _echo, "api": _echo, "widgets": _svg}, cors=cors)


def test_event_has_both_header_maps_path_parameters_and_raw_body() -> None:
    _echo.events.clear()  # type: ignore[attr-defined]
    client = Client(make_gateway())
    reply = client.post(
        "/webhooks/twitter?x=1&x=2",
        data=b'{"a": 1}',
        headers={"X-Sig": "s", "Content-Type": "application/json"},
    )
    assert reply.status_code == 201 and reply.data == b"ok"
    event = _echo.events[-1]  # type: ignore[attr-defined]
    assert event["resource"] == "/webhooks/{network}"
    assert event["pathParameters"] == {"network": "twitter"}
    assert event["headers"]["X-Sig"] == "s" and event["multiValueHeaders"]["X-Sig"] == ["s"]
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False


def test_binary_body_is_base64_and_most_specific_route_wins() -> None:
    client = Client(make_gateway())
    reply = client.get("/v1/widgets/p1/badge.svg")
    assert reply.data == b"<svg/>"
    assert reply.headers["content-type"] == "image/svg+xml" and reply.headers["etag"] == '"abc"'
    _echo.events.clear()  # type: ignore[attr-defined]
    client.post("/webhooks/x", data=b"\xff\x00", headers={"Content-Type": "application/octet-stream"})
    event = _echo.events[-1]  # type: ignore[attr-defined]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"


def test_unknown_route_is_403_like_api_gateway_and_preflight_answers_cors() -> None:
    client = Client(make_gateway())
    assert client.get("/nope").status_code == 403
    reply = client.options("/v1/profiles/p1")
    assert reply.status_code == 204 and reply.headers["Access-Control-Allow-Origin"] == "*"


def test_failing_handler_is_a_502() -> None:
    def boom(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("x")

    gateway = LocalGateway([Route.of("/x", "GET", "boom")], {"boom": boom})
    assert Client(gateway).get("/x").status_code == 502


def test_the_function_learns_the_scheme_the_client_used() -> None:
    _echo.events.clear()  # type: ignore[attr-defined]
    client = Client(make_gateway())
    client.post("/v1/profiles/p1/widget-urls")
    event = _echo.events[-1]  # type: ignore[attr-defined]
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["http"]
    client.post("/v1/profiles/p1/widget-urls", headers={"X-Forwarded-Proto": "https"})  # a proxy in front
    assert _echo.events[-1]["headers"]["X-Forwarded-Proto"] == "https"  # type: ignore[attr-defined]
