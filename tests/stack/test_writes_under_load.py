"""The local stack while ingest writes: a release activation, its rollback, a +K and an account link all
succeed while signed deliveries keep adding accounts, edges and activities (moto's backends are not
thread-safe: the local stack serialises what a transaction or a walk over a table can meet)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from functions.shared.settings import get_settings
from renown.demo_payloads import mastodon_account, mastodon_delivery, twitter_delivery
from renown.local.demo_links import owner_token
from renown.local.demo_runner import DemoRunner
from renown.local.stack import LocalStack

pytestmark = pytest.mark.slow


class Writer(threading.Thread):
    """Posts signed X deliveries, each from new engagers (new partitions), until stopped; it keeps a
    few deliveries in the queue (the processor always has work, and the queue drains soon after)."""

    def __init__(self, url: str, secret: bytes, author: str, runner: DemoRunner) -> None:
        super().__init__(name="writer", daemon=True)
        self.url, self.secret, self.author, self.runner = url, secret, author, runner
        self.stopping = threading.Event()
        self.sent = 0
        self.refused: list[str] = []

    def run(self) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            if self.runner.backlog() > 2:
                time.sleep(0.1)
                continue
            now = int(time.time())
            engagers = [str(700_000 + self.sent * 10 + i) for i in range(10)]
            body, headers = twitter_delivery(
                [(e, self.author, "mention", now, "#higgs under load") for e in engagers], {}, self.secret
            )
            reply = session.post(f"{self.url}/webhooks/twitter", data=body, headers=headers, timeout=60)
            self.sent += 1
            if reply.status_code != 200:
                self.refused.append(f"{reply.status_code} {reply.text[:200]}")


def _active(stack: LocalStack) -> str | None:
    table = stack.moto.client("dynamodb")
    item = table.get_item(
        TableName=stack.template.physical["RenownTable"], Key={"PK": {"S": "ALGO"}, "SK": {"S": "ACTIVE"}}
    ).get("Item")
    return None if item is None else str(item["version"]["S"])


def _state_file(stack: LocalStack, folder: Path) -> Path:
    state = {
        "url": stack.url,
        "moto_endpoint": stack.moto.endpoint,
        "state_machine_arn": stack.template.ref("RescoreStateMachine"),
        "bucket": stack.template.physical["ArtifactsBucket"],
        "table": stack.template.physical["RenownTable"],
    }
    path = folder / "local.json"
    path.write_text(json.dumps(state))
    return path


def _profile_of(stack: LocalStack, network: str, account_id: str, headers: dict[str, Any]) -> str:
    reply = requests.get(f"{stack.url}/v1/identity/{network}/id/{account_id}", headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    profile_id: str = reply.json()["profile_id"]
    return profile_id


def test_release_rollback_endorsement_and_link_while_ingest_writes(
    stack: LocalStack, runner: DemoRunner, api_headers: dict[str, Any], tmp_path: Path
) -> None:
    from renown.cli import main

    settings = get_settings()
    twitter, mastodon = settings.webhook_secret("twitter"), settings.webhook_secret("mastodon")
    signing = settings.widget_signing_key.get_secret_value().encode()
    now = int(time.time())
    # a small scored population: two authors engaged by a dozen people, the first also on Mastodon
    for author in ("81", "82"):
        engagements = [(str(8_000 + i), author, "mention", now, "#higgs") for i in range(12)]
        body, headers = twitter_delivery(engagements, {}, twitter)
        assert requests.post(f"{stack.url}/webhooks/twitter", data=body, headers=headers, timeout=30).ok
    body, headers = mastodon_delivery([("81", "82", "mention", now, "#higgs")], {}, mastodon)
    assert requests.post(f"{stack.url}/webhooks/mastodon", data=body, headers=headers, timeout=30).ok
    assert runner.drain(timeout_s=120)
    if _active(stack) is None:  # alone: a first scoring pass; after the other stack tests: theirs
        runner.score("v1")
    before = _active(stack)
    release = "v1" if before == "v2" else "v2"
    first, second = (_profile_of(stack, "twitter", a, api_headers) for a in ("81", "82"))
    on_mastodon = mastodon_account("81", {})["acct"].lower()  # the network's account id
    mastodon_profile = _profile_of(stack, "mastodon", on_mastodon, api_headers)
    state = _state_file(stack, tmp_path)
    ingest = [p for p in stack.pollers if p.name.startswith("sqs:")]  # the processor's batches
    failures_before = sum(p.failures for p in ingest)

    writer = Writer(stack.url, twitter, "83", runner)
    writer.start()
    try:
        time.sleep(1.0)  # the queue and the processor are busy before the first transaction
        assert main(["release", "--state", str(state), "--version", release, "--solver", "single"]) == 0
        assert _active(stack) == release
        endorsed = requests.post(
            f"{stack.url}/v1/profiles/{second}/endorsements",
            json={"giver_profile_id": first, "topic": "physics"},
            headers=api_headers | {"x-renown-owner-token": owner_token(signing, first)},
            timeout=60,
        )
        assert endorsed.status_code == 201, endorsed.text
        linked = requests.post(
            f"{stack.url}/v1/profiles/{first}/accounts",
            json={
                "network": "mastodon",
                "account_id": on_mastodon,
                "proof": {"account_owner_token": owner_token(signing, mastodon_profile)},
            },
            headers=api_headers | {"x-renown-owner-token": owner_token(signing, first)},
            timeout=60,
        )
        assert linked.status_code == 200, linked.text
        assert main(["release", "--state", str(state), "--rollback"]) == 0
        assert _active(stack) == before
    finally:
        writer.stopping.set()
        writer.join(timeout=60)
    assert writer.sent >= 3 and not writer.refused, writer.refused[:3]
    assert runner.drain(timeout_s=120)
    assert sum(p.failures for p in ingest) == failures_before  # no batch of the writer failed
    assert _profile_of(stack, "mastodon", on_mastodon, api_headers) == first
    # every delivery of the writer is in the table: each of its engagers is an account now
    last = str(700_000 + (writer.sent - 1) * 10 + 9)
    assert _profile_of(stack, "twitter", last, api_headers)
