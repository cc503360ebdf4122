"""The Higgs backfill on the local stack, on a slice: the function (from the template) reads its S3
object, records its job, the score updater leaves its edges to the pass, and after a scoring pass
every sampled account of the slice has its score from that pass (looked up by id through the API, as
``renown.local.score_probe`` does on ``make run``)."""

from __future__ import annotations

import random
import time
from typing import Any

import requests

from functions.shared.settings import get_settings
from renown.local.demo_runner import DemoRunner
from renown.local.score_probe import Probe, higgs_accounts, http_getter
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
    sample = random.Random(7).sample(higgs_accounts(HIGGS, SLICE), 40)
    probe = Probe(http_getter(stack.url, api_headers["x-api-key"]), sample)
    assert probe.poll() == {"sample": 40, "score_200": 40, "full_pass": 40, "provisional": 0}
    for lookup in list(probe.lookups.values())[:5]:
        answer = requests.get(
            f"{stack.url}/v1/profiles/{lookup.profile_id}/score", headers=api_headers, timeout=10
        )
        assert 1 <= answer.json()["score"] <= 100
