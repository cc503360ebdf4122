"""A local API Gateway: turns HTTP requests into REST (v1) proxy events for in-process handlers.

Routes come from the ``Api`` events of the functions in ``template.yaml``; CORS preflights are
answered from the API's ``Cors`` block, as API Gateway's mock integration would.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from renown.local.context import LocalLambdaContext

log = logging.getLogger("renown.local")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_loops = threading.local()


def _ensure_event_loop() -> None:
    """Lambda runs handlers on a main thread that has an event loop (Mangum needs one); the local
    gateway serves requests on worker threads, so each gets its own loop."""
    if getattr(_loops, "loop", None) is None:
        _loops.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(_loops.loop)


TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/javascript", "image/svg")


@dataclass(frozen=True)
class Route:
    path: str  # template path, e.g. /webhooks/{network} or /v1/{proxy+}
    method: str  # GET, POST, ANY
    function: str  # local function name
    pattern: re.Pattern[str]
    names: tuple[str, ...]

    @classmethod
    def of(cls, path: str, method: str, function: str) -> Route:
        names: list[str] = []
        parts: list[str] = []
        for segment in path.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1]
                greedy = name.endswith("+")
                names.append(name.rstrip("+"))
                parts.append(f"(?P<{name.rstrip('+')}>.+)" if greedy else f"(?P<{name}>[^/]+)")
            else:
                parts.append(re.escape(segment))
        regex = "/" + "/".join(parts)
        return cls(path, method.upper(), function, re.compile(f"^{regex}$"), tuple(names))

    @property
    def specificity(self) -> tuple[int, int]:
        return (self.path.count("{"), -len(self.path))


class LocalGateway:
    """WSGI application standing in for API Gateway in front of the in-process handlers."""

    def __init__(
        self,
        routes: Iterable[Route],
        handlers: dict[str, Handler],
        cors: dict[str, str] | None = None,
        stage: str = "local",
        extra: dict[str, Callable[[Request], Response | None]] | None = None,
    ) -> None:
        self.routes = sorted(routes, key=lambda r: r.specificity)
        self.handlers = handlers
        self.cors = cors or {}
        self.stage = stage
        self.extra = extra or {}

    def match(self, path: str, method: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method in ("ANY", method):
                return route, found.groupdict()
        return None

    def event(self, request: Request, route: Route, params: dict[str, str]) -> dict[str, Any]:
        raw = request.get_data(cache=False)
        content_type = request.headers.get("content-type", "")
        is_text = not raw or content_type.startswith(TEXT_TYPES) or content_type.endswith(("xml", "json"))
        try:
            body: str | None = raw.decode() if is_text else base64.b64encode(raw).decode()
        except UnicodeDecodeError:
            is_text, body = False, base64.b64encode(raw).decode()
        if not raw:
            body = None
        multi_headers: dict[str, list[str]] = {}
        for key, value in request.headers.items():
            multi_headers.setdefault(key, []).append(value)
        # API Gateway tells the function the scheme the client used (X-Forwarded-Proto: https); so
        # does this one, with the scheme of the request (or of a proxy in front, when one says so), so
        # that URLs the API builds (signed widget URLs) are http on a plain http server
        if not any(k.lower() == "x-forwarded-proto" for k in multi_headers):
            multi_headers["X-Forwarded-Proto"] = [request.scheme]
        query = parse_qs(request.query_string.decode(), keep_blank_values=True)
        request_id = str(uuid.uuid4())
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": {k: v[-1] for k, v in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": {k: params[k] for k in route.names} or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": request.method,
                "path": f"/{self.stage}{request.path}",
                "stage": self.stage,
                "requestId": request_id,
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {
                    "sourceIp": request.remote_addr or "127.0.0.1",
                    "apiKey": request.headers.get("x-api-key"),
                    "userAgent": request.headers.get("user-agent"),
                },
                "accountId": "123456789012",
                "apiId": "local",
                "protocol": "HTTP/1.1",
            },
            "body": body,
            "isBase64Encoded": bool(raw) and not is_text,
        }

    def preflight(self) -> Response:
        response = Response(status=204)
        for key, header in (
            ("AllowOrigin", "Access-Control-Allow-Origin"),
            ("AllowHeaders", "Access-Control-Allow-Headers"),
            ("AllowMethods", "Access-Control-Allow-Methods"),
            ("MaxAge", "Access-Control-Max-Age"),
        ):
            if key in self.cors:
                response.headers[header] = self.cors[key].strip("'")
        return response

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = self.respond(request)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        page = self.extra.get(request.path)
        answer = page(request) if page is not None else None
        if answer is not None:
            return answer
        found = self.match(request.path, request.method)
        if request.method == "OPTIONS" and (found is None or found[0].method != "OPTIONS"):
            return self.preflight()
        if found is None:
            return Response('{"message":"Missing Authentication Token"}', 403, mimetype="application/json")
        route, params = found
        handler = self.handlers[route.function]
        context = LocalLambdaContext(function_name=route.function)
        _ensure_event_loop()
        try:
            result = handler(self.event(request, route, params), context)
        except Exception:  # what API Gateway answers when the integration fails
            log.exception("%s failed", route.function)
            return Response('{"message": "Internal server error"}', 502, mimetype="application/json")
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(payload, status=int(result.get("statusCode", 200)))
        response.headers.clear()
        for key, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(key, value)
        for key, value in (result.get("headers") or {}).items():
            if key not in response.headers:
                response.headers[key] = value
        return response


def routes_from_template(functions: dict[str, Any], physical: dict[str, str]) -> list[Route]:
    """Every ``Api`` event of every function, as a local route."""
    routes: list[Route] = []
    for logical_id, spec in functions.items():
        for event in spec.events.values():
            if event.get("Type") == "Api":
                props = event["Properties"]
                routes.append(Route.of(props["Path"], props["Method"], physical[logical_id]))
    return routes
