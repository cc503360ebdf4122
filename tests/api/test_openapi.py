"""OpenAPI sanity: every route documented with models, problems as application/problem+json, the API
key scheme on keyed routes only, and /docs served without a key."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def test_openapi(anon: TestClient) -> None:
    r = anon.get("/openapi.json")
    assert r.status_code == 200
    spec: dict[str, Any] = r.json()
    assert spec["info"]["title"] == "Renown API"
    schemes = spec["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": schemes["APIKeyHeader"]["description"],
    }
    expected = {
        "/health",
        "/v1/identity/{network}/{handle}",
        "/v1/identity/{network}/id/{account_id}",
        "/v1/profiles/{profile_id}",
        "/v1/profiles/{profile_id}/score",
        "/v1/profiles/{profile_id}/explain",
        "/v1/profiles/{profile_id}/history",
        "/v1/profiles/{profile_id}/topics",
        "/v1/profiles/{profile_id}/influence",
        "/v1/profiles/{profile_id}/endorsements",
        "/v1/profiles/{profile_id}/perks",
        "/v1/profiles/{profile_id}/opt-out",
        "/v1/profiles/{profile_id}/accounts",
        "/v1/profiles/{profile_id}/accounts/{network}/{account_id}",
        "/v1/profiles/{profile_id}/widget-urls",
        "/v1/compare",
        "/v1/search",
        "/v1/topics/{topic}/leaders",
        "/v1/perks",
        "/v1/usage",
        "/v1/widget-keys",
        "/v1/widgets/widget.js",
        "/v1/widgets/{profile_id}/badge.svg",
        "/v1/widgets/{profile_id}/card",
    }
    assert expected <= set(spec["paths"])
    assert "delete" in spec["paths"]["/v1/profiles/{profile_id}"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            keyed = path.startswith("/v1/") and not path.startswith("/v1/widgets/")
            assert bool(op.get("security")) == keyed, (method, path)
            statuses = set(op["responses"])
            if keyed:
                assert {"401", "422", "429"} <= statuses, (method, path)
            for status, resp in op["responses"].items():
                if status[0] in "45":
                    assert list(resp["content"]) == ["application/problem+json"], (method, path, status)
                    ref = resp["content"]["application/problem+json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ProblemDetails"
                    assert "https://renown.dev/problems/" in resp["description"]
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert ok is not None and ok["content"], (method, path)
    score = spec["paths"]["/v1/profiles/{profile_id}/score"]["get"]
    assert score["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Score")
    assert "404" in score["responses"]
    badge = spec["paths"]["/v1/widgets/{profile_id}/badge.svg"]["get"]
    assert "image/svg+xml" in badge["responses"]["200"]["content"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    link = spec["paths"]["/v1/profiles/{profile_id}/accounts"]["post"]["responses"]
    assert {"200", "308", "401", "403", "404", "409", "422"} <= set(link)
    assert list(link["308"]["content"]) == ["application/problem+json"]
    assert (
        "home-account"
        in spec["paths"]["/v1/profiles/{profile_id}/accounts/{network}/{account_id}"]["delete"]["responses"][
            "409"
        ]["description"]
    )


def test_docs_without_key(anon: TestClient) -> None:
    r = anon.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()
