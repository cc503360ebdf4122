"""Account linking: connect (move an account to a profile, merging the profile it leaves when empty),
disconnect (back to the account's own profile), the tokens both need, and concurrent moves (409)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api import models as m
from functions.api import service
from functions.api.deps import Caches
from functions.api.store import DynamoApiTable, LinkConflict, ProfileState
from functions.ingest.identity import profile_id_for
from functions.shared import keys
from tests.api.conftest import SIGNING
from tests.api.seed import NOW
from tests.api.selfservice import token_of
from tests.api.test_actions import get_item, owner
from tests.api.test_reads import problem


def token(pid: str) -> str:
    return token_of(pid)


def connect(
    client: TestClient, pid: str, network: str, account_id: str, proof_of: str, as_owner: str | None = None
) -> Any:
    body = {"network": network, "account_id": account_id, "proof": {"account_owner_token": token(proof_of)}}
    return client.post(f"/v1/profiles/{pid}/accounts", json=body, headers=owner(as_owner or pid))


def disconnect(
    client: TestClient, pid: str, network: str, account_id: str, as_owner: str | None = None
) -> Any:
    return client.delete(
        f"/v1/profiles/{pid}/accounts/{network}/{account_id}", headers=owner(as_owner or pid)
    )


def accounts_of(client: TestClient, pid: str) -> set[tuple[str, str]]:
    r = client.get(f"/v1/profiles/{pid}")
    assert r.status_code == 200, r.text
    return {(a["network"], a["account_id"]) for a in r.json()["accounts"]}


def identity(client: TestClient, network: str, account_id: str) -> str:
    r = client.get(f"/v1/identity/{network}/id/{account_id}")
    assert r.status_code == 200, r.text
    pid: str = r.json()["profile_id"]
    return pid


def test_home_profile_id_is_ingests() -> None:
    assert keys.home_profile_id("mastodon", "m1") == profile_id_for("mastodon", "m1")


def test_connect_moves_the_last_account_and_merges_the_empty_profile(client: TestClient, ddb: Any) -> None:
    r = connect(client, "p1", "twitter", "1002", proof_of="p2")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["action"] == "connected" and body["changed"] is True
    assert (body["from_profile_id"], body["to_profile_id"], body["profile_id"]) == ("p2", "p1", "p1")
    assert body["merged"] == {"profile_id": "p2", "merged_into": "p1"}
    assert body["effective"] == "next scoring pass" and "only raise" in body["score_effect"]
    assert {(a["network"], a["account_id"]) for a in body["accounts"]} == {
        ("twitter", "1001"),
        ("twitter", "1002"),
        ("mastodon", "m1"),
    }
    # the identity lookups resolve to the new profile at once; the profile lists every account
    assert identity(client, "twitter", "1002") == "p1"
    assert client.get("/v1/identity/twitter/alan").json()["profile_id"] == "p1"
    assert accounts_of(client, "p1") == {("twitter", "1001"), ("twitter", "1002"), ("mastodon", "m1")}
    # the table: account -> p1, the link moved, p2 is a merged tombstone out of name search
    account = get_item(ddb, keys.account_pk("twitter", "1002"), keys.META_SK)
    assert account is not None and account["profile_id"] == "p1" and account["linked_at"] == NOW
    assert get_item(ddb, keys.profile_pk("p1"), keys.linked_account_sk("twitter", "1002")) is not None
    assert get_item(ddb, keys.profile_pk("p2"), keys.linked_account_sk("twitter", "1002")) is None
    meta = get_item(ddb, keys.profile_pk("p2"), keys.META_SK)
    assert meta is not None and meta["merged_into"] == "p1" and "GSI1PK" not in meta
    assert get_item(ddb, keys.profile_pk("p2"), keys.SCORE_SK) is None
    # the merged id answers 308 problems pointing at the profile it went into, on every profile route
    for path, location in [
        ("/v1/profiles/p2", "/v1/profiles/p1"),
        ("/v1/profiles/p2/score?version=v2", "/v1/profiles/p1/score?version=v2"),
        ("/v1/profiles/p2/history?days=7", "/v1/profiles/p1/history?days=7"),
        ("/v1/profiles/p2/explain", "/v1/profiles/p1/explain"),
    ]:
        got = client.get(path, follow_redirects=False)
        assert problem(got, 308, "profile-merged")["merged_into"] == "p1", path
        assert got.headers["location"] == location
    followed = client.get("/v1/profiles/p2/score")
    assert followed.status_code == 200 and followed.json()["profile_id"] == "p1"
    # the merged profile is out of name search; the handle "alan" finds the profile it moved to
    hits = client.get("/v1/search", params={"q": "alan"}).json()["hits"]
    assert [(h["profile_id"], h["handle"]) for h in hits] == [("p1", "alan")]
    leaders = client.get("/v1/topics/python/leaders").json()["leaders"]
    assert "p2" not in {row["profile_id"] for row in leaders}
    # a merged profile takes no links any more
    problem(
        client.post(
            "/v1/profiles/p2/accounts",
            json={"network": "twitter", "account_id": "1003", "proof": {"account_owner_token": token("p3")}},
            headers=owner("p2"),
            follow_redirects=False,
        ),
        308,
        "profile-merged",
    )


def test_connect_from_a_profile_that_keeps_other_accounts(client: TestClient) -> None:
    r = connect(client, "p3", "mastodon", "m1", proof_of="p1")
    assert r.status_code == 200, r.text
    assert r.json()["merged"] is None
    assert identity(client, "mastodon", "m1") == "p3"
    assert accounts_of(client, "p3") == {("twitter", "1003"), ("mastodon", "m1")}
    assert accounts_of(client, "p1") == {("twitter", "1001")}
    assert client.get("/v1/profiles/p1/score").status_code == 200


def test_connect_is_idempotent(client: TestClient) -> None:
    r = connect(client, "p1", "twitter", "1001", proof_of="p1")
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is False and r.json()["merged"] is None
    assert accounts_of(client, "p1") == {("twitter", "1001"), ("mastodon", "m1")}


def test_connect_needs_both_proofs(client: TestClient, anon: TestClient) -> None:
    body = {"network": "twitter", "account_id": "1002", "proof": {"account_owner_token": token("p2")}}
    path = "/v1/profiles/p1/accounts"
    problem(anon.post(path, json=body, headers=owner("p1")), 401, "missing-api-key")
    problem(client.post(path, json=body), 401, "missing-owner-token")
    problem(client.post(path, json=body, headers=owner("p2")), 403, "invalid-owner-token")
    problem(
        client.post(path, json=body, headers={"x-renown-owner-token": "own_forged"}),
        403,
        "invalid-owner-token",
    )
    # the account's proof must be the owner token of the profile the account is linked to now
    problem(connect(client, "p1", "twitter", "1002", proof_of="p1"), 403, "invalid-account-proof")
    problem(connect(client, "p1", "twitter", "1002", proof_of="p3"), 403, "invalid-account-proof")
    problem(
        client.post(path, json={"network": "twitter", "account_id": "1002"}, headers=owner("p1")),
        422,
        "validation-error",
    )
    assert identity(client, "twitter", "1002") == "p2"


def test_connect_unknown_account_or_profile(client: TestClient) -> None:
    problem(connect(client, "p1", "twitter", "999", proof_of="p1"), 404, "account-not-found")
    problem(connect(client, "p9", "twitter", "1002", proof_of="p2"), 404, "profile-not-found")


def _hook_before_source_read(
    monkeypatch: pytest.MonkeyPatch, store: DynamoApiTable, source: str, act: Any
) -> None:
    """Run ``act`` right after the connect read the source profile, before its transaction."""
    original = store.profile_state
    fired: list[bool] = []

    def profile_state(profile_id: str) -> ProfileState:
        state = original(profile_id)
        if profile_id == source and not fired:
            fired.append(True)
            act()
        return state

    monkeypatch.setattr(store, "profile_state", profile_state)


def test_concurrent_move_of_the_same_account_is_a_409(
    client: TestClient, store: DynamoApiTable, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    proof = m.AccountProof(account_owner_token=token("p2"))
    rival = m.ConnectAccountIn(network="twitter", account_id="1002", proof=proof)
    _hook_before_source_read(
        monkeypatch,
        store,
        "p2",
        lambda: service.connect_account(store, Caches(), "p3", rival, settings, NOW),
    )
    problem(connect(client, "p1", "twitter", "1002", proof_of="p2"), 409, "link-conflict")
    monkeypatch.undo()
    assert identity(client, "twitter", "1002") == "p3"  # the rival won, nothing of the loser landed
    assert accounts_of(client, "p1") == {("twitter", "1001"), ("mastodon", "m1")}
    assert accounts_of(client, "p3") == {("twitter", "1003"), ("twitter", "1002")}


def test_concurrent_connect_into_the_profile_being_emptied_is_a_409(
    client: TestClient, store: DynamoApiTable, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # p2 is about to lose its last account (and be merged) while someone connects p3's account to p2
    proof = m.AccountProof(account_owner_token=token("p3"))
    rival = m.ConnectAccountIn(network="twitter", account_id="1003", proof=proof)
    _hook_before_source_read(
        monkeypatch,
        store,
        "p2",
        lambda: service.connect_account(store, Caches(), "p2", rival, settings, NOW),
    )
    problem(connect(client, "p1", "twitter", "1002", proof_of="p2"), 409, "link-conflict")
    monkeypatch.undo()
    assert accounts_of(client, "p2") == {("twitter", "1002"), ("twitter", "1003")}  # not merged
    assert identity(client, "twitter", "1002") == "p2"


def test_stale_state_is_refused_by_the_store(store: DynamoApiTable) -> None:
    account = store.account_by_id("twitter", "1002")
    assert account is not None
    source, target = store.profile_state("p2"), store.profile_state("p3")
    store.move_account(account, source, target, NOW, merge_source=False)
    with pytest.raises(LinkConflict):  # the same move from the same (now stale) reads
        store.move_account(account, source, store.profile_state("p1"), NOW, merge_source=False)


def test_disconnect_gives_the_account_its_own_profile_back(client: TestClient, ddb: Any) -> None:
    home = keys.home_profile_id("mastodon", "m1")
    r = disconnect(client, "p1", "mastodon", "m1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["action"] == "disconnected" and body["changed"] is True
    assert (body["from_profile_id"], body["to_profile_id"]) == ("p1", home)
    assert body["merged"] is None and body["effective"] == "next scoring pass"
    assert body["accounts"] == [{"network": "twitter", "account_id": "1001", "handle": "ada"}]
    assert identity(client, "mastodon", "m1") == home
    assert accounts_of(client, "p1") == {("twitter", "1001")}
    created = client.get(f"/v1/profiles/{home}").json()
    assert created["name"] == "ada@hachyderm.io" and created["score"] is None
    assert get_item(ddb, keys.profile_pk("p1"), keys.linked_account_sk("mastodon", "m1")) is None

    # back and forth: connecting it again empties (merges) its own profile; disconnecting un-merges it
    assert connect(client, "p1", "mastodon", "m1", proof_of=home).json()["merged"] == {
        "profile_id": home,
        "merged_into": "p1",
    }
    problem(client.get(f"/v1/profiles/{home}", follow_redirects=False), 308, "profile-merged")
    assert disconnect(client, "p1", "mastodon", "m1").status_code == 200
    assert accounts_of(client, home) == {("mastodon", "m1")}
    meta = get_item(ddb, keys.profile_pk(home), keys.META_SK)
    assert meta is not None and "merged_into" not in meta and meta["GSI1PK"] == keys.name_gsi1pk("ad")
    assert [h["profile_id"] for h in client.get("/v1/search", params={"q": "ada@"}).json()["hits"]] == [home]

    # an account cannot leave its own profile: disconnect the others instead
    problem(disconnect(client, home, "mastodon", "m1"), 409, "home-account")


def test_disconnect_of_the_last_account_merges_the_profile(client: TestClient) -> None:
    assert disconnect(client, "p2", "twitter", "1002").json()["merged"] == {
        "profile_id": "p2",
        "merged_into": keys.home_profile_id("twitter", "1002"),
    }
    assert identity(client, "twitter", "1002") == keys.home_profile_id("twitter", "1002")


def test_disconnect_errors(client: TestClient) -> None:
    path = "/v1/profiles/p1/accounts/mastodon/m1"
    problem(client.delete(path), 401, "missing-owner-token")
    problem(client.delete(path, headers=owner("p2")), 403, "invalid-owner-token")
    problem(disconnect(client, "p1", "twitter", "1002"), 404, "account-not-found")  # p2's account
    problem(disconnect(client, "p1", "twitter", "999"), 404, "account-not-found")
    problem(client.delete("/v1/profiles/p1/accounts/myspace/1", headers=owner("p1")), 422, "validation-error")
    assert accounts_of(client, "p1") == {("twitter", "1001"), ("mastodon", "m1")}


def test_widgets_of_a_merged_profile_redirect(client: TestClient, anon: TestClient) -> None:
    from functions.api.security import publishable_key

    assert connect(client, "p1", "twitter", "1002", proof_of="p2").status_code == 200
    page = "https://blog.example"
    key = publishable_key(SIGNING.encode(), [page])
    r = anon.get(
        "/v1/widgets/p2/badge.svg", params={"key": key}, headers={"origin": page}, follow_redirects=False
    )
    problem(r, 308, "profile-merged")
    assert r.headers["location"].startswith("/v1/widgets/p1/badge.svg?key=pk_")
    assert r.headers["access-control-allow-origin"] == page
