"""An opted-out person can neither give nor receive +K and cannot be linked, even while an erasure is
still under way (the markers are written first: a marker is enough)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from functions.shared import keys
from functions.shared.records import OptOutRecord
from tests.api.seed import NOW, put
from tests.api.test_accounts import accounts_of, connect
from tests.api.test_actions import endorse, get_item, owner
from tests.api.test_reads import problem


def mark(ddb: Any, network: str, account_id: str) -> None:
    """The opt-out marker of an account, as ``erase_profile`` writes it before erasing anything."""
    put(ddb, OptOutRecord.of(network, account_id, NOW).to_item())


def no_plus_k_edges(ddb: Any) -> bool:
    return all(
        get_item(ddb, keys.edges_pk("twitter", author), keys.engager_sk("twitter", giver)) is None
        for author, giver in (("1001", "1002"), ("1002", "1001"))
    )


def test_an_opted_out_person_receives_no_plus_k(client: TestClient, ddb: Any) -> None:
    mark(ddb, "twitter", "1002")  # p2 opted out; the erasure of the rest has not run yet
    problem(endorse(client, "p2", "p1"), 404, "profile-not-found")
    assert no_plus_k_edges(ddb)


def test_an_opted_out_person_gives_no_plus_k(client: TestClient, ddb: Any) -> None:
    mark(ddb, "mastodon", "m1")  # one of p1's accounts is enough
    problem(endorse(client, "p2", "p1"), 404, "profile-not-found")
    assert no_plus_k_edges(ddb)
    assert endorse(client, "p3", "p2").status_code == 201  # others are unaffected


def test_an_opted_out_account_cannot_be_linked(client: TestClient, ddb: Any) -> None:
    mark(ddb, "mastodon", "m1")
    problem(connect(client, "p3", "mastodon", "m1", proof_of="p1"), 404, "account-not-found")
    assert accounts_of(client, "p3") == {("twitter", "1003")}


def test_nothing_is_linked_into_an_opted_out_profile(client: TestClient, ddb: Any) -> None:
    mark(ddb, "twitter", "1003")  # p3 opted out
    problem(connect(client, "p3", "mastodon", "m1", proof_of="p1"), 404, "profile-not-found")
    assert accounts_of(client, "p1") == {("twitter", "1001"), ("mastodon", "m1")}


def test_erasure_covers_the_poison_lines_naming_the_person(client: TestClient, ddb: Any) -> None:
    from functions.ingest import pull
    from functions.shared import aws

    table = aws.table()
    lines = {
        "ada": '{"type": "edit", "user": "ada@hachyderm.io", "timestamp": "not a time"}',
        "1001": '{"did": "x", "mentions": ["1001"], "broken": ',
        "other": '{"type": "edit", "user": "Grace", "timestamp": "not a time"}',
    }
    for name, line in lines.items():
        pull.dead_letter(table, "wikipedia" if name != "1001" else "bluesky", line, "bad line", None, NOW)
    assert client.post("/v1/profiles/p1/opt-out", headers=owner("p1")).status_code == 200
    left = [
        item["line"]["S"]
        for source in keys.PULL_SOURCES
        for item in ddb.query(
            TableName="renown",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.dead_letter_pk(source)}},
        )["Items"]
    ]
    assert left == [lines["other"]]
