"""YouTube WebSub: the receiver confirms only the (un)subscriptions the service asked the hub for, with a
lease record per topic; leases near their end are renewed."""

from __future__ import annotations

from typing import Any

import pytest

from functions.ingest import receiver, websub
from functions.shared import aws, keys
from functions.shared.settings import get_settings
from tests.conftest import LambdaContext
from tests.ingest.conftest import SECRETS, VERIFY, Stack, problem_of, rest_event

TOPIC = "https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCH0s2y9ykD2mJPr5cNw0Cgg"
CALLBACK = "https://api.example/webhooks/youtube"
NOW = 1_764_000_000.0


class Hub:
    """Stands in for the hub: records what the subscriber asked."""

    def __init__(self) -> None:
        self.asked: list[dict[str, str]] = []

    def __call__(self, url: str, form: dict[str, str]) -> int:
        self.asked.append(form)
        return 202


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [NOW]
    monkeypatch.setattr(receiver, "clock", lambda: now[0])
    return now


def verification(
    mode: str, topic: str = TOPIC, lease: int = 432_000, challenge: str = "c-42"
) -> dict[str, Any]:
    query = {
        "hub.mode": mode,
        "hub.topic": topic,
        "hub.challenge": challenge,
        "hub.verify_token": VERIFY["youtube"],
    }
    if mode == "subscribe":
        query["hub.lease_seconds"] = str(lease)
    return receiver.handler(rest_event("youtube", "GET", query=query), LambdaContext())


def ask(mode: str, now: float, hub: Hub | None = None) -> Hub:
    hub = hub or Hub()
    book = websub.TableLeaseBook(aws.client("dynamodb"), get_settings().table_name)
    status = websub.request(
        book, TOPIC, CALLBACK, SECRETS["youtube"], now, mode=mode, verify_token=VERIFY["youtube"], post=hub
    )
    assert status == 202
    return hub


def lease(stack: Stack) -> dict[str, Any]:
    item: dict[str, Any] = stack.table.get_item(Key={"PK": keys.websub_pk(TOPIC), "SK": keys.LEASE_SK})[
        "Item"
    ]
    return item


@pytest.mark.parametrize("mode", ["subscribe", "unsubscribe"])
def test_a_change_nobody_asked_for_is_refused(stack: Stack, clock: list[float], mode: str) -> None:
    answer = verification(mode)
    assert answer["statusCode"] == 404 and problem_of(answer)["type"].endswith("unknown-subscription")
    assert "c-42" not in answer["body"]


def test_the_requested_subscription_is_confirmed_once_with_its_lease(
    stack: Stack, clock: list[float]
) -> None:
    hub = ask("subscribe", NOW)
    (form,) = hub.asked
    assert form["hub.mode"] == "subscribe" and form["hub.topic"] == TOPIC and form["hub.callback"] == CALLBACK
    assert lease(stack)["pending_mode"] == "subscribe"
    clock[0] = NOW + 5
    answer = verification("subscribe", lease=86_400)
    assert answer["statusCode"] == 200 and answer["body"] == "c-42"
    stored = lease(stack)
    assert stored["subscribed"] is True and int(stored["lease_expires_at"]) == NOW + 5 + 86_400
    assert stored["pending_mode"] == ""
    # a second verification of the same request (a replay, or someone else's) is refused
    assert verification("subscribe")["statusCode"] == 404
    # an unsubscribe the service did not ask for is refused: the subscription stays
    assert verification("unsubscribe")["statusCode"] == 404
    assert lease(stack)["subscribed"] is True
    # another topic
    assert verification("subscribe", topic=TOPIC + "x")["statusCode"] == 404


def test_a_requested_unsubscribe_is_confirmed(stack: Stack, clock: list[float]) -> None:
    ask("subscribe", NOW)
    assert verification("subscribe")["statusCode"] == 200
    ask("unsubscribe", NOW + 60)
    assert verification("subscribe")["statusCode"] == 404  # the mode must match what was asked
    assert verification("unsubscribe")["statusCode"] == 200
    assert lease(stack)["subscribed"] is False


def test_a_request_expires(stack: Stack, clock: list[float]) -> None:
    ask("subscribe", NOW)
    clock[0] = NOW + websub.PENDING_S + 1
    assert verification("subscribe")["statusCode"] == 404


def test_leases_near_their_end_are_renewed(stack: Stack, clock: list[float]) -> None:
    ask("subscribe", NOW)
    assert verification("subscribe", lease=432_000)["statusCode"] == 200
    book = websub.TableLeaseBook(aws.client("dynamodb"), get_settings().table_name)
    hub = Hub()
    assert websub.renew_due(book, SECRETS["youtube"], NOW + 100, post=hub) == []  # not due yet
    later = NOW + 432_000 - 3600
    assert websub.renew_due(book, SECRETS["youtube"], later, post=hub) == [TOPIC]
    assert [f["hub.mode"] for f in hub.asked] == ["subscribe"]
    clock[0] = later + 5
    assert verification("subscribe", lease=432_000)["statusCode"] == 200
    assert int(lease(stack)["lease_expires_at"]) == later + 5 + 432_000
