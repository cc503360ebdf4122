"""The Higgs backfill on the local stack, on a slice: the function (from the template) reads its S3
object, records its job, and after a scoring pass every account of the slice has a score."""

from __future__ import annotations

import random
import time
from typing import Any

import requests

from functions.shared.settings import get_settings
from renown.local.demo import read_higgs
from renown.local.demo_runner import DemoRunner
from renown.local.stack import LocalStack
from tests.conftest import ROOT

HIGGS = ROOT.parent / "shared" / "datasets" / "higgs-twitter"
SLICE = 300


def test_a_slice_of_higgs_backfilled_and_every_account_scored(
    stack: LocalStack, api_headers: dict[str, Any]
) -> None:
    runner = DemoRunner(stack, get_settings(), HIGGS.parent, limit=SLICE)
    now = int(time.time())
    result = runner.backfill_higgs(HIGGS, now)
    assert result["engagements"] > 0 and result["invalid"] == 0
    assert result["requests_per_item"] < 0.1
    assert runner.backfill_status()["status"] == "succeeded"
    again = runner.backfill_higgs(HIGGS, now)  # the same object again: nothing more is counted
    assert again["engagements"] == 0 and again["duplicates"] == result["engagements"] + result["activities"]

    runner.score()
    engagements = read_higgs(HIGGS, now=now, limit=SLICE)
    accounts = sorted({e.author for e in engagements} | {e.engager for e in engagements})
    for account in random.Random(7).sample(accounts, 12):
        found = requests.get(f"{stack.url}/v1/identity/twitter/id/{account}", headers=api_headers, timeout=10)
        assert found.status_code == 200, (account, found.text)
        profile_id = found.json()["profile_id"]
        score = requests.get(f"{stack.url}/v1/profiles/{profile_id}/score", headers=api_headers, timeout=10)
        assert score.status_code == 200, (account, score.text)
        assert 1 <= score.json()["score"] <= 100
