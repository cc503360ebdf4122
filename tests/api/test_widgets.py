"""Widgets: publishable keys and signed URLs, ETag/304, Cache-Control, CORS, widget.js."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from functions.api.security import publishable_key, widget_signature
from tests.api.conftest import SIGNING
from tests.api.seed import NOW
from tests.api.test_reads import problem

PAGE = "https://blog.example"


def pk(*origins: str) -> str:
    return publishable_key(SIGNING.encode(), list(origins))


def test_issue_publishable_key(client: TestClient) -> None:
    r = client.post("/v1/widget-keys", json={"origins": ["https://Blog.example/", "http://localhost:8080"]})
    assert r.status_code == 201
    body = r.json()
    assert body["origins"] == ["http://localhost:8080", "https://blog.example"]
    assert body["key"] == "pk_wk_" + body["key_id"] and body["owner"] == "dev" and body["profiles"] == []
    problem(client.post("/v1/widget-keys", json={"origins": ["not a url"]}), 422, "validation-error")
    problem(client.post("/v1/widget-keys", json={"origins": []}), 422, "validation-error")


def test_badge_with_publishable_key(anon: TestClient) -> None:
    r = anon.get("/v1/widgets/p1/badge.svg", params={"key": pk(PAGE)}, headers={"origin": PAGE})
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/svg+xml"
    assert r.text.startswith("<svg") and ">63<" in r.text
    assert r.headers["access-control-allow-origin"] == PAGE
    assert r.headers["vary"] == "Origin"
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["etag"].startswith('"') and len(r.headers["etag"]) == 34


def test_badge_referer_works_like_origin(anon: TestClient) -> None:
    r = anon.get("/v1/widgets/p1/badge.svg", params={"key": pk(PAGE)}, headers={"referer": PAGE + "/post/1"})
    assert r.status_code == 200


def test_widget_key_refused(anon: TestClient) -> None:
    p = problem(
        anon.get(
            "/v1/widgets/p1/badge.svg", params={"key": pk(PAGE)}, headers={"origin": "https://evil.example"}
        ),
        403,
        "invalid-widget-key",
    )
    assert "evil.example" in p["detail"]
    r = anon.get("/v1/widgets/p1/card", params={"key": pk(PAGE)[:-2] + "xx"}, headers={"origin": PAGE})
    problem(r, 403, "invalid-widget-key")
    assert r.headers["access-control-allow-origin"] == PAGE  # so widget.js can read the error
    problem(anon.get("/v1/widgets/p1/badge.svg"), 403, "invalid-widget-key")


def test_signed_url(client: TestClient, anon: TestClient) -> None:
    urls = client.post("/v1/profiles/p1/widget-urls", params={"ttl_days": 7}).json()
    assert urls["expires_at"] == NOW + 7 * 86_400
    r = anon.get(urls["badge"].replace("http://testserver", ""))
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    sig = widget_signature(SIGNING.encode(), "p1", NOW - 1)
    r = anon.get("/v1/widgets/p1/badge.svg", params={"exp": NOW - 1, "sig": sig})
    problem(r, 403, "invalid-widget-key")  # expired
    r = anon.get("/v1/widgets/p2/badge.svg", params={"exp": urls["expires_at"], "sig": urls["badge"][-24:]})
    problem(r, 403, "invalid-widget-key")  # another profile
    problem(client.post("/v1/profiles/nobody/widget-urls"), 404, "profile-not-found")


def test_etag_304(anon: TestClient) -> None:
    params, h = {"key": pk(PAGE)}, {"origin": PAGE}
    first = anon.get("/v1/widgets/p1/card", params=params, headers=h)
    etag = first.headers["etag"]
    again = anon.get("/v1/widgets/p1/card", params=params, headers={**h, "if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "public, max-age=300"
    other = anon.get("/v1/widgets/p1/card", params=params, headers={**h, "if-none-match": '"nope"'})
    assert other.status_code == 200
    listed = anon.get("/v1/widgets/p1/card", params=params, headers={**h, "if-none-match": f'"x", {etag}'})
    assert listed.status_code == 304


def test_card(anon: TestClient) -> None:
    r = anon.get("/v1/widgets/p1/card", params={"key": pk(PAGE)}, headers={"origin": PAGE})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "Ada Lovelace" in html and 'data-score="63"' in html
    assert "<polyline" in html and "Python" in html
    assert "Topics: Klout Topic Ontology, CC BY 3.0" in html


def test_widget_unknown_profile(anon: TestClient) -> None:
    r = anon.get("/v1/widgets/nobody/badge.svg", params={"key": pk(PAGE)}, headers={"origin": PAGE})
    problem(r, 404, "profile-not-found")
    assert r.headers["access-control-allow-origin"] == PAGE


def test_widget_js(anon: TestClient) -> None:
    r = anon.get("/v1/widgets/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert "data-renown-profile" in r.text and "attachShadow" in r.text
    assert r.headers["access-control-allow-origin"] == "*"
    assert anon.get("/v1/widgets/widget.js", headers={"if-none-match": r.headers["etag"]}).status_code == 304


def test_cors_preflight_needs_no_key(anon: TestClient) -> None:
    r = anon.options(
        "/v1/profiles/p1/score",
        headers={
            "origin": PAGE,
            "access-control-request-method": "GET",
            "access-control-request-headers": "x-api-key",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "x-api-key" in r.headers["access-control-allow-headers"]


def test_keyed_responses_carry_cors(client: TestClient, anon: TestClient) -> None:
    assert client.get("/v1/profiles/p1/score").headers["access-control-allow-origin"] == "*"
    assert anon.get("/v1/profiles/p1/score").headers["access-control-allow-origin"] == "*"


def test_widget_cache_is_per_profile(anon: TestClient, app: Any) -> None:
    anon.get("/v1/widgets/p1/badge.svg", params={"key": pk(PAGE)}, headers={"origin": PAGE})
    assert app.state.caches.widgets.get(("p1", "badge"), NOW) is not None
