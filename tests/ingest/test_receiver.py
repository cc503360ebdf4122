"""Receiver: handshakes and signatures of every network (with the samples in events/), and every
refusal path: 401, 400 (problem+json), 404, 405, 413, stale deliveries; replays acknowledged as duplicates."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from functions.ingest import receiver, websub
from functions.ingest.networks import parse_body
from functions.shared import aws
from functions.shared.settings import get_settings
from renown.demo_payloads import sign
from tests.conftest import LambdaContext
from tests.ingest.conftest import (
    EVENTS,
    SECRETS,
    VERIFY,
    WEBHOOK_NETWORKS,
    Stack,
    problem_of,
    rest_event,
    samples,
)


def call(event: dict) -> dict:
    return receiver.handler(event, LambdaContext())


def post(network: str, body: bytes, headers: dict[str, str] | None = None) -> dict:
    return call(
        rest_event(
            network,
            body=body,
            headers=headers if headers is not None else sign(network, body, SECRETS[network]),
        )
    )


# --- handshakes ----------------------------------------------------------------------------------


def handshake_query(network: str) -> dict[str, str]:
    query: dict[str, str] = json.loads((EVENTS / network / "handshake.json").read_text())[
        "queryStringParameters"
    ]
    if "hub.verify_token" in query:
        query["hub.verify_token"] = VERIFY[network]
    return query


def test_twitter_crc(stack: Stack) -> None:
    query = handshake_query("twitter")
    answer = call(rest_event("twitter", "GET", query=query))
    digest = hmac.new(SECRETS["twitter"], query["crc_token"].encode(), hashlib.sha256).digest()
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"response_token": "sha256=" + base64.b64encode(digest).decode()}


def asked_for(network: str, query: dict[str, str]) -> None:
    """YouTube confirms only what the service asked the hub for (``functions.ingest.websub``)."""
    if network == "youtube":
        book = websub.TableLeaseBook(aws.client("dynamodb"), get_settings().table_name)
        book.note_request(
            query["hub.topic"], "https://api.example/webhooks/youtube", query["hub.mode"], time.time()
        )


@pytest.mark.parametrize("network", ["facebook", "instagram", "youtube"])
def test_hub_challenge_is_echoed(stack: Stack, network: str) -> None:
    query = handshake_query(network)
    asked_for(network, query)
    answer = call(rest_event(network, "GET", query=query))
    assert answer["statusCode"] == 200 and answer["body"] == query["hub.challenge"]


@pytest.mark.parametrize("network", ["facebook", "instagram", "youtube"])
def test_hub_wrong_verify_token_is_403(stack: Stack, network: str) -> None:
    query = handshake_query(network) | {"hub.verify_token": "wrong"}
    assert problem_of(call(rest_event(network, "GET", query=query)))["status"] == 403


def test_linkedin_challenge(stack: Stack) -> None:
    query = handshake_query("linkedin")
    answer = json.loads(call(rest_event("linkedin", "GET", query=query))["body"])
    expected = hmac.new(SECRETS["linkedin"], query["challengeCode"].encode(), hashlib.sha256).hexdigest()
    assert answer == {"challengeCode": query["challengeCode"], "challengeResponse": expected}


@pytest.mark.parametrize("network", WEBHOOK_NETWORKS)
def test_handshake_without_parameters_is_4xx(stack: Stack, network: str) -> None:
    answer = call(rest_event(network, "GET"))
    assert 400 <= answer["statusCode"] < 500 and problem_of(answer)


# --- deliveries ----------------------------------------------------------------------------------

ALL_SAMPLES = [(n, p) for n in WEBHOOK_NETWORKS for p in samples(n)]


@pytest.mark.parametrize(("network", "path"), ALL_SAMPLES, ids=[f"{n}/{p.name}" for n, p in ALL_SAMPLES])
def test_signed_samples_are_accepted_and_queued(
    stack: Stack, at_sample_time: None, network: str, path
) -> None:
    body = path.read_bytes()
    answer = post(network, body)
    assert answer["statusCode"] == 200, answer["body"]
    [message] = stack.receive_all()
    queued = json.loads(message["Body"])
    assert queued["network"] == network and queued["body"].encode() == body
    assert queued["delivery_id"] == json.loads(answer["body"])["delivery_id"]


@pytest.mark.parametrize(("network", "path"), ALL_SAMPLES, ids=[f"{n}/{p.name}" for n, p in ALL_SAMPLES])
def test_wrong_or_missing_signature_is_401_and_nothing_queued(
    stack: Stack, at_sample_time: None, network: str, path
) -> None:
    body = path.read_bytes()
    wrong = sign(network, body, b"not-the-secret")
    assert problem_of(post(network, body, wrong))["status"] == 401
    assert problem_of(post(network, body, {"content-type": "application/json"}))["status"] == 401
    tampered = body.replace(b"1", b"2", 1)
    assert problem_of(post(network, tampered, sign(network, body, SECRETS[network])))["status"] == 401
    assert stack.receive_all() == []


def test_sample_activities() -> None:
    kinds = {
        "twitter/tweet_create_events.json": ["mention", "reply", "quote", "share"] + ["post"] * 4,
        "twitter/favorite_events.json": ["like", "like"],
        "twitter/follow_events.json": ["follow"],
        "facebook/feed.json": ["comment", "like", "mention", "post", "share"],
        "instagram/comments.json": ["comment"],
        "linkedin/social_actions.json": ["comment", "like"],
        "youtube/upload.xml": ["post"],
        "mastodon/status_created.json": ["post", "reply"],
        "mastodon/status_reblog.json": ["share"],
    }
    for name, expected in kinds.items():
        network = name.split("/")[0]
        parsed = parse_body(network, (EVENTS / name).read_text())
        assert sorted(a.kind for a in parsed.activities) == sorted(expected), name
    tweets = parse_body("twitter", (EVENTS / "twitter/tweet_create_events.json").read_text()).activities
    mention = next(a for a in tweets if a.kind == "mention")
    assert (mention.actor.account_id, mention.target.account_id) == ("200", "100")
    assert "#higgs" in mention.terms and "domain:home.cern" in mention.terms


def test_malformed_json_is_400_problem(stack: Stack) -> None:
    answer = post("twitter", b'{"for_user_id": ')
    body = problem_of(answer)
    assert body["status"] == 400 and body["type"].endswith("/malformed-body")
    assert body["errors"][0]["type"] == "json_invalid"


def test_missing_fields_are_400_with_locations(stack: Stack) -> None:
    body = problem_of(post("twitter", json.dumps({"tweet_create_events": [{"id_str": "1"}]}).encode()))
    assert {tuple(e["loc"]) for e in body["errors"]} == {("for_user_id",)}


def test_a_malformed_event_is_refused_alone(stack: Stack, at_sample_time: None) -> None:
    """One bad event of a signed delivery is listed as rejected; the rest of the delivery is queued."""
    good = json.loads((EVENTS / "twitter/favorite_events.json").read_bytes())
    good["tweet_create_events"] = [{"id_str": "1"}]  # no user, no time
    answer = post("twitter", json.dumps(good).encode())
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert body["status"] == "accepted" and body["activities"] >= 1
    assert {tuple(e["loc"]) for e in body["rejected"]} >= {("tweet_create_events", "0", "user")}
    assert len(stack.receive_all()) == 1


def test_malformed_xml_and_entities_are_400(stack: Stack) -> None:
    assert problem_of(post("youtube", b"<feed><entry>"))["status"] == 400
    bomb = b'<?xml version="1.0"?><!DOCTYPE z [<!ENTITY a "a"><!ENTITY b "&a;&a;">]><feed>&b;</feed>'
    assert problem_of(post("youtube", bomb))["errors"][0]["type"] == "xml_forbidden"


@pytest.mark.parametrize("network", ["myspace", "wikipedia", "bluesky", "pinterest", ""])
def test_unknown_or_pull_only_network_is_404(stack: Stack, network: str) -> None:
    assert problem_of(call(rest_event(network, body=b"{}")))["status"] == 404


def test_other_methods_are_405(stack: Stack) -> None:
    assert problem_of(call(rest_event("twitter", "PUT", body=b"{}")))["status"] == 405


def test_oversized_body_is_413(stack: Stack) -> None:
    body = b'{"for_user_id": "1", "pad": "' + b"x" * (256 * 1024) + b'"}'
    assert problem_of(post("twitter", body))["status"] == 413
    assert (
        problem_of(
            call(
                rest_event(
                    "twitter", body=body, headers=sign("twitter", body, SECRETS["twitter"]), binary=True
                )
            )
        )["status"]
        == 413
    )


def test_bad_base64_is_400(stack: Stack) -> None:
    event = rest_event("twitter", body=b"{}") | {"body": "@@not base64@@", "isBase64Encoded": True}
    assert problem_of(call(event))["status"] == 400


def test_binary_encoded_body_is_verified_on_raw_bytes(stack: Stack, at_sample_time: None) -> None:
    body = (EVENTS / "twitter/follow_events.json").read_bytes()
    event = rest_event("twitter", body=body, headers=sign("twitter", body, SECRETS["twitter"]), binary=True)
    assert call(event)["statusCode"] == 200


def test_stale_delivery_is_refused(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stale means older than the network's retry window (Mastodon retries for about two days)."""
    from tests.ingest.conftest import SAMPLE_TIME

    monkeypatch.setattr(receiver, "clock", lambda: SAMPLE_TIME + 5 * 86_400.0)
    body = (EVENTS / "mastodon/status_created.json").read_bytes()
    answer = problem_of(post("mastodon", body))
    assert answer["status"] == 400 and answer["type"].endswith("/stale-delivery")
    assert stack.receive_all() == []


@pytest.mark.parametrize(
    ("network", "sample", "late_s"),
    [
        ("facebook", "feed.json", 30 * 3600),  # Meta retries for up to ~36 hours
        ("instagram", "comments.json", 30 * 3600),
        ("twitter", "favorite_events.json", 600),  # X retries over 5 minutes (and we may be slow)
        ("mastodon", "status_created.json", 3600),
    ],
)
def test_retries_within_the_networks_window_are_accepted(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, network: str, sample: str, late_s: int
) -> None:
    from tests.ingest.conftest import SAMPLE_TIME

    monkeypatch.setattr(receiver, "clock", lambda: SAMPLE_TIME + float(late_s))
    answer = post(network, (EVENTS / network / sample).read_bytes())
    assert answer["statusCode"] == 200, answer["body"]
    assert json.loads(answer["body"])["status"] == "accepted"
    assert len(stack.receive_all()) == 1


def test_events_from_the_future_are_dropped_not_the_delivery(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.ingest.conftest import SAMPLE_TIME

    monkeypatch.setattr(receiver, "clock", lambda: SAMPLE_TIME - 3600.0)  # our clock an hour behind
    answer = post("mastodon", (EVENTS / "mastodon/status_created.json").read_bytes())
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert body["activities"] == 0 and body["dropped"]["future"] >= 1


def test_replayed_delivery_is_acknowledged_not_queued(stack: Stack, at_sample_time: None) -> None:
    """A network retrying after a lost acknowledgement gets a 2xx (so it stops) and nothing changes."""
    body = (EVENTS / "facebook/feed.json").read_bytes()
    first = post("facebook", body)
    assert first["statusCode"] == 200 and json.loads(first["body"])["status"] == "accepted"
    again = post("facebook", body)
    assert again["statusCode"] == 200
    assert json.loads(again["body"]) == {
        "status": "duplicate",
        "delivery_id": json.loads(first["body"])["delivery_id"],
    }
    assert len(stack.receive_all()) == 1


def test_delivery_the_queue_refused_is_queued_on_retry(
    stack: Stack, at_sample_time: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.ingest.intake import QueueError

    body = (EVENTS / "facebook/feed.json").read_bytes()

    def refuse(self: receiver.SqsQueue, delivery: object) -> None:
        raise QueueError("queue down")

    with monkeypatch.context() as patched:
        patched.setattr(receiver.SqsQueue, "send", refuse)
        assert post("facebook", body)["statusCode"] == 503
    answer = post("facebook", body)  # the network retries: not a duplicate, it was never queued
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["status"] == "accepted"
    assert len(stack.receive_all()) == 1


def test_queue_failure_is_503_not_a_crash(
    stack: Stack, at_sample_time: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENOWN_INGEST_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/missing")
    from functions.shared.settings import get_settings

    get_settings.cache_clear()
    body = (EVENTS / "twitter/follow_events.json").read_bytes()
    assert problem_of(post("twitter", body))["status"] == 503


def test_an_internal_error_is_a_problem_json_500(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(receiver, "receive", broken)
    answer = post("twitter", (EVENTS / "twitter/follow_events.json").read_bytes())
    assert answer["statusCode"] == 500 and problem_of(answer)["type"].endswith("/internal-error")
