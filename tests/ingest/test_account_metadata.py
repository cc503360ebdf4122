"""Account metadata (creation time, followers) from the samples in events/ to the model's arrays:
adapters capture it, ingest checks its range and stores it on the account, the snapshot feeds it to
the core as ``created`` and ``followers``."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from functions.ingest import processor
from functions.ingest.networks import ADAPTERS, SOURCES
from functions.ingest.networks.base import AccountRef, Activity
from functions.ingest.store import IngestTableWriter
from functions.rescore.graph_source import items_of
from functions.shared import keys
from tests.ingest.conftest import EVENTS, SAMPLE_TIME, Stack


def _utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def _refs(activities: list[Activity]) -> dict[str, AccountRef]:
    out: dict[str, AccountRef] = {}
    for act in activities:
        for ref in (act.actor, act.target):
            if ref is not None and (ref.created is not None or ref.account_id not in out):
                out[ref.account_id] = ref
    return out


def test_twitter_adapter_reads_user_created_at_and_followers() -> None:
    body = (EVENTS / "twitter/tweet_create_events.json").read_bytes()
    refs = _refs(ADAPTERS["twitter"].parse(body, {}).activities)
    assert refs["100"].created == _utc("2010-03-02T09:00:00")
    assert refs["400"].created == _utc("2025-11-01T18:00:00") and refs["400"].followers == 120
    # a mention carries no user object: nothing is made up for it
    mentioned = [r for r in refs.values() if r.created is None]
    assert all(r.followers is None for r in mentioned)


def test_twitter_bad_created_at_keeps_the_event() -> None:
    doc = json.loads((EVENTS / "twitter/favorite_events.json").read_bytes())
    doc["favorite_events"][0]["user"]["created_at"] = "not a date"
    parsed = ADAPTERS["twitter"].parse(json.dumps(doc).encode(), {})
    assert not parsed.rejected and len(parsed.activities) == 2
    assert parsed.activities[0].actor.created is None


def test_mastodon_adapter_reads_account_created_at() -> None:
    body = (EVENTS / "mastodon/status_created.json").read_bytes()
    act = ADAPTERS["mastodon"].parse(body, {}).activities[0]
    assert act.actor.created == _utc("2016-11-24T00:00:00") and act.actor.followers == 120


def test_bluesky_profile_record_is_account_metadata_only() -> None:
    line = (EVENTS / "bluesky/jetstream.jsonl").read_text().splitlines()[-1]
    parsed = SOURCES["bluesky"].parse_line(line)
    assert parsed.activities == []
    assert [(r.account_id, r.created, r.name) for r in parsed.accounts] == [
        ("did:plc:fan400", _utc("2023-05-02T09:30:00"), "Physics Fan")
    ]


def _act(actor: AccountRef, target: AccountRef, i: int = 0) -> Activity:
    return Activity(
        network="twitter",
        kind="like",
        activity_id=f"like:meta:{i}",
        timestamp=SAMPLE_TIME,
        actor=actor,
        target=target,
    )


def test_out_of_range_metadata_is_dropped_with_its_reason_and_the_activity_kept(stack: Stack) -> None:
    now = SAMPLE_TIME
    acts = [
        _act(AccountRef(account_id="f1", created=now + 86_400), AccountRef(account_id="a1", created=100)),
        _act(AccountRef(account_id="f2", followers=-5), AccountRef(account_id="a1"), 1),
    ]
    stats = processor.store().ingest(acts, "meta-bad", now)
    assert stats.engagements == 2
    assert stats.dropped_metadata == {
        "created_future": 1,
        "created_before_network": 1,
        "followers_out_of_range": 1,
    }
    for account in ("f1", "a1"):
        item = stack.table.get_item(Key={"PK": keys.account_pk("twitter", account), "SK": keys.META_SK})
        assert "created" not in item["Item"]


def test_created_reaches_the_account_and_the_model(stack: Stack) -> None:
    """First sight stores it in the account record; an account stored without it gets it once (later
    reports do not move it); the snapshot hands it to the core, NaN where nobody reported one."""
    store = processor.store()
    old, young = _utc("2012-01-01T00:00:00"), SAMPLE_TIME - 3 * 86_400
    store.ingest(
        [_act(AccountRef(account_id="e1", created=old), AccountRef(account_id="a"))], "m1", SAMPLE_TIME
    )
    first = store.ingest(
        [_act(AccountRef(account_id="e2"), AccountRef(account_id="a", created=young), 1)], "m2", SAMPLE_TIME
    )
    assert first.created_written == 1  # "a" was stored without a creation time
    again = store.ingest(
        [_act(AccountRef(account_id="e2"), AccountRef(account_id="a", created=young + 60), 2)],
        "m3",
        SAMPLE_TIME,
    )
    assert again.created_written == 0
    fresh_writer = IngestTableWriter(store.table, store.client, 90)  # another container
    assert (
        fresh_writer.ingest(
            [_act(AccountRef(account_id="e2"), AccountRef(account_id="a", created=young + 60), 3)],
            "m4",
            SAMPLE_TIME,
        ).created_written
        == 0
    )
    snap = items_of(stack.table.scan()["Items"])
    _, accounts = snap.to_core()
    created = dict(zip(accounts.ids, accounts.created.tolist(), strict=True))
    assert created["twitter:e1"] == old and created["twitter:a"] == young
    assert math.isnan(created["twitter:e2"])


def test_sample_deliveries_feed_created_and_followers_to_the_snapshot(stack: Stack) -> None:
    """The recorded X and Mastodon deliveries, processed as the queue hands them over."""
    for network, name in (("twitter", "tweet_create_events.json"), ("mastodon", "status_created.json")):
        parsed = ADAPTERS[network].parse((EVENTS / network / name).read_bytes(), {})
        processor.store().ingest(parsed.activities, f"sample:{network}", SAMPLE_TIME + 5)
    _, accounts = items_of(stack.table.scan()["Items"]).to_core()
    by_id = {k: i for i, k in enumerate(accounts.ids)}
    fan = by_id["twitter:400"]
    assert accounts.created[fan] == _utc("2025-11-01T18:00:00") and accounts.followers[fan] == 120
    assert accounts.created[by_id["twitter:300"]] == _utc("2009-11-02T08:15:00")
    assert accounts.created[by_id["mastodon:physicsfan"]] == _utc("2016-11-24T00:00:00")
    assert math.isnan(accounts.created[by_id["mastodon:peterhiggs"]])  # only mentioned: not reported
