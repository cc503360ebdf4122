"""The FastAPI application of the public API: ``create_app(store=...)``.

Routers live in ``functions.api.routers``; keyed routers (everything under ``/v1`` except widgets)
share the ``require_api_key`` dependency, which authenticates and meters every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.api import problems
from functions.api.deps import Caches, require_api_key
from functions.api.routers import (
    accounts,
    actions,
    admin,
    discovery,
    health,
    identity,
    ownership,
    perks,
    profiles,
    usage,
    widget_keys,
    widgets,
)
from functions.api.store import ApiTable, DynamoApiTable
from functions.shared.settings import Settings, get_settings

DESCRIPTION = """Renown: an open, explainable social influence score.

Send your API key in `x-api-key` on every `/v1` route except `/v1/widgets/*`. Requests are metered per
key and UTC day (`GET /v1/usage`). Errors are `application/problem+json` with a stable `type` URI under
`https://renown.dev/problems/`. Widgets take a publishable key (`?key=pk_...`, origin-restricted) or a
signed URL (`?exp=&sig=`). Topics: Klout Topic Ontology, CC BY 3.0."""

CORS_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
    (b"access-control-allow-headers", b"content-type, x-api-key, x-renown-owner-token, if-none-match"),
    (b"access-control-max-age", b"600"),
]


class Cors:
    """Minimal CORS: answers preflights without a key and adds ``Access-Control-Allow-Origin: *`` to
    responses that did not set their own (widgets echo the allowed page origin).

    Examples
    --------
    >>> app = Cors(create_app)  # doctest: +SKIP
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(b"access-control-allow-origin", b"*"), (b"vary", b"Origin"), *CORS_HEADERS],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = list(message.get("headers") or [])
                if not any(k.lower() == b"access-control-allow-origin" for k, _ in out):
                    out.append((b"access-control-allow-origin", b"*"))
                    out.append((b"access-control-expose-headers", b"etag, retry-after, location"))
                message["headers"] = out
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` that documents error bodies as ``application/problem+json`` only."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        for path in schema.get("paths", {}).values():
            for op in path.values():
                for status, resp in op.get("responses", {}).items():
                    content = resp.get("content", {})
                    if status[:1] in "345" and "application/json" in content:
                        content[problems.PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas.update(problems.openapi_components())  # what the problem responses refer to
        schema["components"]["schemas"] = dict(sorted(schemas.items()))
        app.openapi_schema = schema
        return schema

    return openapi


def create_app(
    store: ApiTable | None = None,
    settings: Settings | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """Build the API.

    Parameters
    ----------
    store
        Data access; default: :class:`DynamoApiTable` on ``settings.table_name`` (client created lazily).
    settings
        Default: the process settings (``RENOWN_*`` environment).
    clock
        Unix time source (tests move it).

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> app = create_app(store=my_store)  # doctest: +SKIP
    >>> TestClient(app).get("/health").json()["status"]  # doctest: +SKIP
    'ok'
    """
    settings = settings or get_settings()
    app = FastAPI(
        title="Renown API",
        version="1.0.0",
        description=DESCRIPTION,
        license_info={"name": "Apache-2.0"},
    )
    app.state.store = store if store is not None else DynamoApiTable(table_name=settings.table_name)
    app.state.settings = settings
    app.state.caches = Caches()
    app.state.clock = clock
    problems.install(app)
    keyed = [Depends(require_api_key)]
    app.include_router(health.router)
    app.include_router(widgets.router)
    app.include_router(admin.router)  # its own credential (IAM in AWS), no API key
    for module in (identity, profiles, accounts, discovery, actions, usage, widget_keys, ownership, perks):
        app.include_router(module.router, dependencies=keyed)
    app.openapi = _problem_openapi(app)  # type: ignore[method-assign]
    app.add_middleware(Cors)
    return app
