"""The multi-network demo on the local stack (after test_end_to_end, which counts every edge): each
person's accounts on other networks end on their X profile (one person, one profile) through the
API's account-linking route, and search finds them by name and by handle."""

from __future__ import annotations

from typing import Any

import requests

from renown.demo_payloads import DEMO_USERS
from renown.local.demo_links import account_id_on
from renown.local.demo_runner import DemoRunner
from renown.local.stack import LocalStack


def test_demo_people_are_one_profile_each(
    stack: LocalStack, runner: DemoRunner, api_headers: dict[str, Any]
) -> None:
    runner.multi_network()  # signed deliveries on six networks, then the linking

    def profile_of(network: str, account_id: str) -> str:
        reply = requests.get(
            f"{stack.url}/v1/identity/{network}/id/{account_id}", headers=api_headers, timeout=30
        )
        assert reply.status_code == 200, (network, account_id, reply.text)
        profile_id: str = reply.json()["profile_id"]
        return profile_id

    higgs = profile_of("twitter", "100")
    assert profile_of("mastodon", account_id_on("mastodon", "100", DEMO_USERS["100"])) == higgs
    profile = requests.get(f"{stack.url}/v1/profiles/{higgs}", headers=api_headers, timeout=30).json()
    # (the X account's name and handle are those of the first delivery that named it: alone, this
    # demo's; after test_end_to_end, which uses the same id, that test's)
    accounts = {(a["network"], a["handle"]) for a in profile["accounts"]}
    assert {n for n, _ in accounts} == {"twitter", "mastodon"} and ("mastodon", "peterhiggs") in accounts
    cern = profile_of("twitter", "300")
    for network in ("facebook", "instagram", "linkedin", "youtube"):
        assert profile_of(network, "300") == cern, network
    # the profiles the accounts left are merged into the person's
    hits = requests.get(
        f"{stack.url}/v1/search", params={"q": "@peterhiggs"}, headers=api_headers, timeout=30
    ).json()["hits"]
    assert {h["profile_id"] for h in hits} == {higgs}
