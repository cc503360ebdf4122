"""Embeddable widgets (no API key): badge SVG, HTML card, ``widget.js``.

Access needs a publishable origin-restricted key (``?key=pk_wk_...``, created with ``POST
/v1/widget-keys``, checked against the page's ``Origin`` or ``Referer`` and its profiles, and counted on
its owner's API key; stateless ``pk_<origins>.<mac>`` keys until their sunset) or a signed URL
(``?exp=&sig=``). Responses carry a strong ``ETag`` (SHA-256
of the body; 304 on ``If-None-Match``), ``Cache-Control`` and CORS headers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from functions.api import render, service, widget_keys
from functions.api.deps import Caches, CachesDep, NowDep, ProfileId, SettingsDep, StoreDep
from functions.api.problems import Problem, responses
from functions.api.security import normalise_origin, publishable_key_origins, verify_widget_signature
from functions.api.store import ApiTable

router = APIRouter(prefix="/v1/widgets", tags=["widgets"])

WIDGET_MAX_AGE_S = 300
SCRIPT_MAX_AGE_S = 3600
SVG = "image/svg+xml"

Key = Annotated[str | None, Query(max_length=512, description="publishable key `pk_...`")]
Exp = Annotated[int | None, Query(ge=0, description="signed URL: expiry (Unix seconds)")]
Sig = Annotated[str | None, Query(max_length=64, description="signed URL: signature")]

_WIDGET_RESPONSES = responses("invalid-widget-key", "profile-not-found", "validation-error", "quota-exceeded")


def etag_of(body: bytes) -> str:
    """Strong ETag of a body: quoted SHA-256 prefix.

    Examples
    --------
    >>> etag_of(b"abc")
    '"ba7816bf8f01cfea414140de5dae2223"'
    """
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def cached(
    request: Request,
    body: bytes,
    media_type: str,
    allow_origin: str,
    max_age: int,
    extra: dict[str, str] | None = None,
) -> Response:
    """A cacheable response: ETag, Cache-Control, CORS (and ``extra`` headers); 304 when
    ``If-None-Match`` matches.

    Examples
    --------
    >>> # cached(request, b"<svg/>", "image/svg+xml", "*", 300).headers["etag"]
    """
    etag = etag_of(body)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Access-Control-Allow-Origin": allow_origin,
        "Vary": "Origin",
        "X-Content-Type-Options": "nosniff",
        **(extra or {}),
    }
    inm = request.headers.get("if-none-match", "")
    if inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def authorize(
    request: Request,
    store: ApiTable,
    settings: SettingsDep,
    caches: Caches,
    profile_id: str,
    key: str | None,
    exp: int | None,
    sig: str | None,
    now: float,
) -> tuple[str, dict[str, str]]:
    """Check the widget credentials; returns the ``Access-Control-Allow-Origin`` to answer with and any
    extra headers (the deprecation of stateless keys). A stored key (``pk_wk_...``) is checked against its
    record and its request counted on its owner's API key (``functions.api.widget_keys``).

    Examples
    --------
    >>> # authorize(request, store, settings, caches, "p1", "pk_wk_...", None, None, now)
    >>> # -> ("https://blog.example", {})
    """
    secret = settings.widget_signing_key.get_secret_value().encode()
    if sig is not None and exp is not None:
        if verify_widget_signature(secret, profile_id, exp, sig, now):
            return "*", {}
        raise Problem("invalid-widget-key", "the signed URL is invalid or expired")
    page = normalise_origin(request.headers.get("origin") or request.headers.get("referer") or "")
    if widget_keys.is_stored_key(key):
        widget_keys.authorize(store, caches, settings, str(key), profile_id, page, now)
        return page, {}
    origins = publishable_key_origins(secret, key)
    if origins is None:
        raise Problem("invalid-widget-key", "pass ?key=pk_... (publishable key) or a signed URL")
    headers = widget_keys.legacy_headers(settings, now)
    if page not in origins:
        raise Problem("invalid-widget-key", f"this key is not valid on {page or 'a page without an origin'}")
    return page, headers


def _with_cors(problem: Problem, request: Request) -> Problem:
    problem.headers.setdefault("Access-Control-Allow-Origin", request.headers.get("origin") or "*")
    problem.headers.setdefault("Vary", "Origin")
    problem.headers.setdefault("Cache-Control", "no-store")
    return problem


def _widget(
    request: Request,
    store: ApiTable,
    settings: SettingsDep,
    caches: CachesDep,
    profile_id: str,
    kind: str,
    credentials: tuple[str | None, int | None, str | None],
    now: float,
    build: Callable[[], bytes],
) -> tuple[bytes, str, dict[str, str]]:
    try:
        allow, headers = authorize(request, store, settings, caches, profile_id, *credentials, now=now)
        body: bytes | None = caches.widgets.get((profile_id, kind), now)
        if body is None:
            body = build()
            caches.widgets.put((profile_id, kind), body, now)
        return body, allow, headers
    except Problem as problem:
        raise _with_cors(problem, request) from None


@router.get(
    "/widget.js", response_class=Response, responses={200: {"content": {"application/javascript": {}}}}
)
def widget_js(request: Request) -> Response:
    """The script third-party pages include to render ``data-renown-profile`` elements as cards.

    Examples
    --------
    >>> # <script src="https://api.example/v1/widgets/widget.js" async></script>
    """
    return cached(request, render.WIDGET_JS.encode(), "application/javascript", "*", SCRIPT_MAX_AGE_S)


@router.get(
    "/{profile_id}/badge.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}, **_WIDGET_RESPONSES},
)
def badge(
    profile_id: ProfileId,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    caches: CachesDep,
    now: NowDep,
    key: Key = None,
    exp: Exp = None,
    sig: Sig = None,
) -> Response:
    """A shields-style SVG badge with the score.

    Examples
    --------
    >>> # <img src="https://api.example/v1/widgets/p1/badge.svg?key=pk_...">
    """

    def build() -> bytes:
        return render.badge_svg(service.score_record(store, profile_id).score).encode()

    body, allow, extra = _widget(
        request, store, settings, caches, profile_id, "badge", (key, exp, sig), now, build
    )
    return cached(request, body, SVG, allow, WIDGET_MAX_AGE_S, extra)


@router.get(
    "/{profile_id}/card",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}, **_WIDGET_RESPONSES},
)
def card(
    profile_id: ProfileId,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    caches: CachesDep,
    now: NowDep,
    key: Key = None,
    exp: Exp = None,
    sig: Sig = None,
) -> Response:
    """An HTML card: name, score, 30-day sparkline, top topics (fragment with its own style).

    Examples
    --------
    >>> # fetched by widget.js, or <iframe src="https://api.example/v1/widgets/p1/card?exp=..&sig=..">
    """

    def build() -> bytes:
        rec = service.score_record(store, profile_id)
        trend = [p.score for p in service.history(store, profile_id, 30, now).points] or [rec.score]
        topics = [str(t.get("name") or t.get("slug")) for t in rec.topics]
        return render.card_html(profile_id, rec.name or profile_id, rec.score, trend, topics).encode()

    body, allow, extra = _widget(
        request, store, settings, caches, profile_id, "card", (key, exp, sig), now, build
    )
    return cached(request, body, "text/html; charset=utf-8", allow, WIDGET_MAX_AGE_S, extra)
