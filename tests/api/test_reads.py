"""Read endpoints over moto (in-process): identity, profile, score, explain, history, topics,
influence, compare, search, leaders, health."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


def problem(r: Any, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["type"] == f"https://renown.dev/problems/{slug}"
    assert body["status"] == status and body["title"]
    return body


def test_health_needs_no_key(anon: TestClient) -> None:
    r = anon.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "store": "ok", "algorithm_version": "v2"}


def test_health_503_when_store_fails(anon: TestClient, app: Any) -> None:
    class Broken:
        def ping(self) -> None:
            raise ConnectionError("down")

    app.state.store = Broken()
    problem(anon.get("/health"), 503, "store-unavailable")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/identity/twitter/ada",
        "/v1/identity/twitter/ADA",
        "/v1/identity/twitter/@ada",
        "/v1/identity/twitter/id/1001",
    ],
)
def test_identity(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.json() == {"profile_id": "p1", "network": "twitter", "account_id": "1001", "handle": "ada"}


def test_identity_unknown_and_bad_network(client: TestClient) -> None:
    problem(client.get("/v1/identity/twitter/nobody"), 404, "account-not-found")
    body = problem(client.get("/v1/identity/myspace/ada"), 422, "validation-error")
    assert body["errors"][0]["field"] == "path.network"


def test_profile(client: TestClient) -> None:
    body = client.get("/v1/profiles/p1").json()
    assert body["name"] == "Ada Lovelace"
    assert {a["network"] for a in body["accounts"]} == {"twitter", "mastodon"}
    assert body["score"] == 63.2 and body["algorithm_version"] == "v2"
    assert body["changes"] == {"day_change": 0.4, "week_change": 3.2, "month_change": 5.1}
    assert body["topics"][0]["slug"] == "python"
    assert body["style"]["name"] == "Specialist"


def test_unknown_profile_everywhere(client: TestClient) -> None:
    for suffix in ["", "/score", "/explain", "/history", "/topics", "/influence", "/perks"]:
        problem(client.get(f"/v1/profiles/nobody{suffix}"), 404, "profile-not-found")


def test_score_and_pinned_version(client: TestClient) -> None:
    body = client.get("/v1/profiles/p1/score").json()
    assert body["score"] == 63.2
    assert body["algorithm_version"] == "v2"
    assert body["networks"] == {"twitter": 63.2, "mastodon": 31.6}
    assert {"day_change", "week_change", "month_change", "computed_at"} <= body.keys()
    v1 = client.get("/v1/profiles/p1/score", params={"version": "v1"}).json()
    assert v1["score"] == 60.0 and v1["algorithm_version"] == "v1"
    problem(client.get("/v1/profiles/p1/score", params={"version": "v9"}), 404, "version-not-found")
    problem(client.get("/v1/profiles/p1/score", params={"version": "v 1"}), 422, "validation-error")


def test_explain_adds_up_and_splits_the_change(client: TestClient) -> None:
    body = client.get("/v1/profiles/p1/explain").json()
    assert sum(n["contribution"] for n in body["networks"].values()) == pytest.approx(body["score"])
    assert sum(body["signals"].values()) == pytest.approx(body["score"])
    assert body["decay"]["half_life_days"] == 30
    assert body["other"] == {"base": 1.0}
    split = body["change_attribution"]
    assert split["previous_version"] == "v1" and split["released_on"] == "2025-06-11"
    assert split["algorithm"] == pytest.approx(63.2 - 60.0)
    assert split["activity"] == pytest.approx(60.0 - split["baseline_score"])
    assert split["algorithm"] + split["activity"] == pytest.approx(split["total"])


def test_history_marks_version_change(client: TestClient) -> None:
    body = client.get("/v1/profiles/p1/history", params={"days": 7}).json()
    assert len(body["points"]) == 7
    assert body["points"][-1]["day"] == "2025-06-15"
    changed = [p for p in body["points"] if p["version_changed"]]
    assert [p["day"] for p in changed] == ["2025-06-11"]
    assert len(client.get("/v1/profiles/p1/history").json()["points"]) == 30
    body = problem(client.get("/v1/profiles/p1/history", params={"days": 999}), 422, "validation-error")
    assert body["errors"] == [
        {
            "field": "query.days",
            "message": "Input should be less than or equal to 365",
            "kind": "less_than_equal",
        }
    ]


def test_topics_and_influence(client: TestClient) -> None:
    topics = client.get("/v1/profiles/p1/topics").json()["topics"]
    assert [t["slug"] for t in topics] == ["python", "mathematics"]
    infl = client.get("/v1/profiles/p1/influence").json()
    assert infl["influencers"][0]["profile_id"] == "p3"
    assert infl["influencers"][0]["interactions"] == {"like": 12, "share": 3}
    assert infl["influencees"][0]["interactions"] == {"reply": 4}


def test_compare(client: TestClient) -> None:
    body = client.get("/v1/compare", params={"ids": "p1,p3"}).json()
    assert [s["score"] for s in body["scores"]] == [63.2, 71.5]
    problem(client.get("/v1/compare", params={"ids": "p1,nobody"}), 404, "profile-not-found")
    problem(client.get("/v1/compare", params={"ids": "p1"}), 422, "validation-error")
    problem(client.get("/v1/compare"), 422, "validation-error")


def test_search(client: TestClient) -> None:
    hits = client.get("/v1/search", params={"q": "Ada"}).json()["hits"]
    assert hits == [
        {"profile_id": "p1", "name": "Ada Lovelace", "score": 63.2, "network": "twitter", "handle": "ada"}
    ]
    assert client.get("/v1/search", params={"q": "Ada L"}).json()["hits"][0]["handle"] is None  # by name
    assert client.get("/v1/search", params={"q": "al"}).json()["hits"][0]["profile_id"] == "p2"
    assert client.get("/v1/search", params={"q": "zz"}).json()["hits"] == []
    problem(client.get("/v1/search", params={"q": "a"}), 422, "validation-error")


def test_search_by_handle_on_any_network(client: TestClient) -> None:
    # "grace" is p3's X handle (her name starts otherwise): found through the handle, named by the profile
    hits = client.get("/v1/search", params={"q": "@Grace"}).json()["hits"]
    assert hits == [
        {"profile_id": "p3", "name": "Grace Hopper", "score": 71.5, "network": "twitter", "handle": "grace"}
    ]
    mastodon = client.get("/v1/search", params={"q": "ada@hachyderm.io"}).json()["hits"]
    assert [(h["profile_id"], h["network"]) for h in mastodon] == [("p1", "mastodon")]
    # a handle match and a name match of the same person are one hit
    assert [h["profile_id"] for h in client.get("/v1/search", params={"q": "ada"}).json()["hits"]] == ["p1"]


def test_topic_leaders(client: TestClient) -> None:
    body = client.get("/v1/topics/python/leaders", params={"limit": 2}).json()
    assert body["algorithm_version"] == "v2"
    assert [(x["rank"], x["profile_id"]) for x in body["leaders"]] == [(1, "p3"), (2, "p1")]
    assert client.get("/v1/topics/python/leaders", params={"version": "v1"}).json()["leaders"] == []
    problem(client.get("/v1/topics/Not A Topic/leaders"), 422, "validation-error")


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    problem(client.get("/v1/nothing-here"), 404, "not-found")
    problem(client.put("/v1/profiles/p1/score"), 405, "method-not-allowed")


def test_explain_accepts_core_explain_shape(client: TestClient, ddb: Any) -> None:
    """core.explain writes ``networks`` as a list of entries and engagers by ``account``."""
    from functions.shared.records import ExplainRecord
    from tests.api.seed import put

    explanation = {
        "score": 63.2,
        "signals": {"amplification": 40.0, "network_impact": 23.2},
        "networks": [{"network": "twitter", "accounts": ["1001"], "points": 63.2, "score": 63.2}],
        "top_engagers": [{"account": "twitter:1003", "points": 5.0, "engagements": 3}],
        "decay": {"half_life_days": 30, "points_lost_estimate": 1.0},
        "additivity": "sum of signals",
    }
    put(ddb, ExplainRecord(profile_id="p1", algorithm_version="v2", explanation=explanation).to_item())
    r = client.get("/v1/profiles/p1/explain")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["networks"][0]["points"] == 63.2
    assert body["top_engagers"][0]["account"] == "twitter:1003"
    assert body["other"]["additivity"] == "sum of signals"


def test_a_provisional_score_says_so(client: TestClient, ddb: Any) -> None:
    """A score the updater wrote between full passes is served with ``provisional: true``."""
    from boto3.dynamodb.types import TypeSerializer

    from functions.shared.records import ScoreRecord

    assert client.get("/v1/profiles/p1/score").json()["provisional"] is False
    rec = ScoreRecord(
        profile_id="p1", name="Ada", score=61.0, algorithm_version="v2", computed_at=0, provisional=True
    )
    ddb.put_item(
        TableName="renown", Item={k: TypeSerializer().serialize(v) for k, v in rec.to_item().items()}
    )
    assert client.get("/v1/profiles/p1/score").json()["provisional"] is True
    assert client.get("/v1/profiles/p1").json()["provisional"] is True
