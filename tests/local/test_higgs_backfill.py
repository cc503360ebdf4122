"""The Higgs backfill object holds what the X adapter emits for the same tweets."""

from __future__ import annotations

import gzip
import json
from typing import Any

from functions.ingest.backfill import BackfillStats, read_activities
from functions.ingest.networks.base import terms_of
from functions.ingest.networks.twitter import TwitterAdapter
from renown.demo_payloads import twitter_event
from renown.local.demo import SUBJECT, HiggsEngagement, read_higgs
from renown.local.higgs_backfill import (
    activity_lines,
    engagements_by_author,
    higgs_object,
)
from renown.local.score_probe import higgs_accounts
from tests.conftest import ROOT

NOW = 1_765_000_000


def adapter_lines(engagements: list[HiggsEngagement]) -> list[str]:
    """The slow, faithful way: Account Activity events through the adapter's parse."""
    events: list[tuple[str, dict[str, Any]]] = []
    for author, items in engagements_by_author(engagements).items():
        for e in items:
            events.append(twitter_event((e.engager, author, e.kind, e.timestamp, e.text), {}, len(events)))
    payload: dict[str, Any] = {"for_user_id": "0"}
    for name, event in events:
        payload.setdefault(name, []).append(event)
    parsed = TwitterAdapter().parse(json.dumps(payload).encode(), {})
    return [a.model_dump_json() for a in parsed.activities]


def test_the_object_holds_what_the_adapter_emits() -> None:
    body, engagements, accounts = higgs_object(
        ROOT.parent / "shared" / "datasets" / "higgs-twitter", NOW, 400
    )
    lines = gzip.decompress(body).decode().splitlines()
    stats = BackfillStats()
    direct = read_activities(lines, stats)
    assert stats.invalid == 0 and engagements == 400 and accounts > 100
    sample = read_higgs(ROOT.parent / "shared" / "datasets" / "higgs-twitter", now=NOW, limit=400)
    expected = read_activities(adapter_lines(sample), BackfillStats())
    assert sorted(direct, key=lambda a: a.activity_id) == sorted(expected, key=lambda a: a.activity_id)
    assert sum(a.is_engagement for a in direct) == sum(e.engager != e.author for e in sample)


def test_a_self_mention_is_a_post_only() -> None:
    lines = list(activity_lines([HiggsEngagement("5", "5", "mention", NOW, "#higgs")]))
    assert [json.loads(line)["kind"] for line in lines] == ["post"]


def test_nothing_is_made_up_per_account() -> None:
    body, _, _ = higgs_object(ROOT.parent / "shared" / "datasets" / "higgs-twitter", NOW, 400)
    activities = read_activities(gzip.decompress(body).decode().splitlines(), BackfillStats())
    sample = read_higgs(ROOT.parent / "shared" / "datasets" / "higgs-twitter", now=NOW, limit=400)
    # the only posts are the tweets themselves, by the accounts that wrote them
    writers = {e.engager for e in sample}
    assert {a.actor.account_id for a in activities if a.kind == "post"} <= writers
    # and every tweet carries the collection's subject and its mentions, nothing else
    subject = set(terms_of(SUBJECT))
    assert subject and all({t for t in a.terms if not t.startswith("@")} == subject for a in activities)


def test_the_probe_samples_the_accounts_the_demo_imports() -> None:
    """``score_probe.higgs_accounts`` names exactly the accounts of the engagements ``renown serve``
    imports, with and without a limit."""
    directory = ROOT.parent / "shared" / "datasets" / "higgs-twitter"
    for limit in (1, 300, 40_000):
        engagements = read_higgs(directory, now=NOW, limit=limit)
        expected = {e.author for e in engagements} | {e.engager for e in engagements}
        assert set(higgs_accounts(directory, limit)) == expected, limit
