"""Opt-out markers are keyed hashes (HMAC under ``settings.optout_marker_key``); markers of old (plain
SHA-256) still hold for every reader, and opting in removes them too."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from functions.api.store import DynamoApiTable
from functions.ingest.identity import Identity
from functions.rescore.graph_source import items_of
from functions.shared import aws, keys
from functions.shared.optout import opted_out
from functions.shared.records import OptOutRecord
from functions.shared.settings import get_settings

ACCOUNT = ("twitter", "1001")


def test_a_marker_is_a_keyed_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = "OPTOUT#" + hashlib.sha256(b"optout:twitter:1001").hexdigest()
    marker = OptOutRecord.of(*ACCOUNT, 0, "p1")
    assert marker.marker != plain and marker.marker == keys.optout_pk(*ACCOUNT)
    assert marker.profile_key != "OPTEDOUT#" + hashlib.sha256(b"optout-profile:p1").hexdigest()
    monkeypatch.setenv("RENOWN_OPTOUT_MARKER_KEY", "another key")
    get_settings.cache_clear()
    try:
        assert keys.optout_pk(*ACCOUNT) != marker.marker, "the key decides the marker"
        assert keys.legacy_optout_pk(*ACCOUNT) == plain
    finally:
        get_settings.cache_clear()


def _legacy_marker(ddb: Any) -> dict[str, Any]:
    item = {
        "PK": {"S": keys.legacy_optout_pk(*ACCOUNT)},
        "SK": {"S": keys.META_SK},
        "opted_out_at": {"N": "1"},
        "GSI2PK": {"S": keys.legacy_optedout_gsi2pk("p1")},
        "GSI2SK": {"S": keys.legacy_optout_pk(*ACCOUNT)},
    }
    ddb.put_item(TableName="renown", Item=item)
    return item


def test_markers_of_old_still_hold_everywhere(ddb: Any) -> None:
    item = _legacy_marker(ddb)
    others = [("twitter", "1002")]
    assert opted_out(aws.table(), [ACCOUNT, *others]) == {ACCOUNT}  # processor, score updater
    assert DynamoApiTable(client=ddb, table_name="renown").opted_out([ACCOUNT, *others]) == {ACCOUNT}
    gone, _ = Identity(aws.table(), ddb).lookup([ACCOUNT, *others])
    assert gone == {ACCOUNT}
    snapshot = items_of([{"PK": item["PK"]["S"], "SK": "META"}])  # the full pass
    assert snapshot.opted_out("twitter:1001") and not snapshot.opted_out("twitter:1002")


def test_new_markers_hold_and_opting_in_removes_both_kinds(ddb: Any) -> None:
    _legacy_marker(ddb)
    ddb.put_item(
        TableName="renown",
        Item={
            k: {"S": v} if isinstance(v, str) else {"N": str(v)}
            for k, v in OptOutRecord.of("mastodon", "m1", 2, "p1").to_item().items()
        },
    )
    store = DynamoApiTable(client=ddb, table_name="renown")
    assert store.opted_out([ACCOUNT, ("mastodon", "m1")]) == {ACCOUNT, ("mastodon", "m1")}
    assert store.opt_in("p1") == 2
    assert store.opted_out([ACCOUNT, ("mastodon", "m1")]) == set()
