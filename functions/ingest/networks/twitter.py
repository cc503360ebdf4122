"""X/Twitter Account Activity API.

Handshake: ``GET ?crc_token=T`` answered with ``{"response_token": "sha256=" + base64(HMAC-SHA256(
consumer_secret, T))}``. Deliveries: ``POST`` with ``x-twitter-webhooks-signature: sha256=<base64
HMAC-SHA256 of the raw body>``; the body names the subscribed user (``for_user_id``) and carries
``tweet_create_events`` (tweets, retweets via ``retweeted_status``, replies via
``in_reply_to_user_id_str``, quotes via ``quoted_status``, mentions via ``entities.user_mentions``),
``favorite_events`` and ``follow_events``. Other event types (DMs, deletes, blocks) are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.ingest.networks.base import (
    EVENT_ERRORS,
    AccountRef,
    Activity,
    HandshakeError,
    HandshakeResponse,
    Parsed,
    PayloadError,
    header,
    hmac_b64,
    load_json,
    rejection,
    signature_matches,
    terms_of,
    validate,
)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class User(_Model):
    id_str: str = Field(min_length=1)
    screen_name: str | None = None
    name: str | None = None
    followers_count: int | None = None
    created_at: str | None = None  # when the account was created ("Wed Oct 10 20:19:24 +0000 2018")

    def ref(self) -> AccountRef:
        return AccountRef(
            account_id=self.id_str,
            handle=self.screen_name,
            name=self.name,
            followers=self.followers_count,
            created=account_created(self.created_at),
        )


def account_created(created_at: str | None) -> int | None:
    """Unix seconds of a user's ``created_at``, or None when it is absent or not a Twitter date
    (account metadata is optional: a bad value never refuses the event that carries it).

    Examples
    --------
    >>> account_created("Wed Oct 10 20:19:24 +0000 2018"), account_created("yesterday")
    (1539202764, None)
    """
    if not created_at:
        return None
    try:
        return int(datetime.strptime(created_at, "%a %b %d %H:%M:%S %z %Y").timestamp())
    except (ValueError, OverflowError, OSError):
        return None


class Hashtag(_Model):
    text: str


class Mention(_Model):
    id_str: str = Field(min_length=1)
    screen_name: str | None = None
    name: str | None = None


class Url(_Model):
    expanded_url: str | None = None
    url: str | None = None


class Entities(_Model):
    hashtags: list[Hashtag] = Field(default_factory=list)
    user_mentions: list[Mention] = Field(default_factory=list)
    urls: list[Url] = Field(default_factory=list)


class ExtendedTweet(_Model):
    full_text: str | None = None
    entities: Entities | None = None


class Tweet(_Model):
    id_str: str = Field(min_length=1)
    created_at: str | None = None
    timestamp_ms: str | int | None = None
    text: str | None = None
    user: User
    entities: Entities = Field(default_factory=Entities)
    extended_tweet: ExtendedTweet | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_user_id_str: str | None = None
    in_reply_to_screen_name: str | None = None
    retweeted_status: Tweet | None = None
    quoted_status: Tweet | None = None

    def timestamp(self) -> int:
        return _timestamp(self.timestamp_ms, self.created_at)

    def full_entities(self) -> Entities:
        if self.extended_tweet and self.extended_tweet.entities:
            return self.extended_tweet.entities
        return self.entities

    def terms(self) -> tuple[str, ...]:
        entities = self.full_entities()
        text = (
            self.extended_tweet.full_text
            if self.extended_tweet and self.extended_tweet.full_text
            else self.text
        )
        urls = [u.expanded_url or u.url or "" for u in entities.urls]
        return terms_of(text, [h.text for h in entities.hashtags], urls)


class FavoriteEvent(_Model):
    id: str
    created_at: str | None = None
    timestamp_ms: int | str | None = None
    favorited_status: Tweet
    user: User


class FollowEvent(_Model):
    type: str
    created_timestamp: str | int | None = None
    target: User
    source: User


class AccountActivity(_Model):
    """The envelope; its events are validated one by one (a malformed event is refused alone)."""

    for_user_id: str = Field(min_length=1)
    tweet_create_events: list[Any] = Field(default_factory=list)
    favorite_events: list[Any] = Field(default_factory=list)
    follow_events: list[Any] = Field(default_factory=list)


def _timestamp(ms: str | int | None, created_at: str | None) -> int:
    if ms not in (None, ""):
        try:
            return int(ms) // 1000  # type: ignore[arg-type]
        except ValueError as exc:
            raise PayloadError(
                "timestamp_ms is not a number",
                [{"loc": ["timestamp_ms"], "msg": str(ms), "type": "int_parsing"}],
            ) from exc
    if created_at:
        try:
            return int(datetime.strptime(created_at, "%a %b %d %H:%M:%S %z %Y").timestamp())
        except (ValueError, OverflowError, OSError) as exc:
            raise PayloadError(
                "created_at is not a Twitter date",
                [{"loc": ["created_at"], "msg": created_at[:60], "type": "datetime_parsing"}],
            ) from exc
    raise PayloadError(
        "event has no timestamp", [{"loc": ["timestamp_ms"], "msg": "missing", "type": "missing"}]
    )


def tweet_activities(tweet: Tweet) -> list[Activity]:
    """Activities of one tweet: the post itself and the engagements it expresses.

    A retweet is a ``share`` of the original author, a reply a ``reply`` to
    ``in_reply_to_user_id_str``, a quote a ``quote`` of the quoted author, and every other user in
    ``entities.user_mentions`` a ``mention`` (the reply, retweet or quote target is not counted twice).

    Examples
    --------
    >>> t = Tweet.model_validate({"id_str": "9", "timestamp_ms": "1700000000000", "text": "hi @b",
    ...     "user": {"id_str": "1"}, "entities": {"user_mentions": [{"id_str": "2"}]}})
    >>> [a.kind for a in tweet_activities(t)]
    ['post', 'mention']
    """
    ts = tweet.timestamp()
    actor = tweet.user.ref()
    out: list[Activity] = []
    covered: set[str] = {actor.account_id}

    def engage(kind: str, target: AccountRef, post_id: str | None, terms: tuple[str, ...]) -> None:
        if target.account_id in covered:
            return
        covered.add(target.account_id)
        out.append(
            Activity(
                network="twitter",
                kind=kind,
                activity_id=f"{kind}:{tweet.id_str}:{target.account_id}",  # type: ignore[arg-type]
                timestamp=ts,
                actor=actor,
                target=target,
                post_id=post_id,
                terms=terms,
            )
        )

    if tweet.retweeted_status is not None:
        original = tweet.retweeted_status
        engage("share", original.user.ref(), original.id_str, original.terms())
        return out  # a retweet carries no own content
    terms = tweet.terms()
    out.append(
        Activity(
            network="twitter",
            kind="post",
            activity_id=f"post:{tweet.id_str}",
            timestamp=ts,
            actor=actor,
            post_id=tweet.id_str,
            terms=terms,
        )
    )
    if tweet.in_reply_to_user_id_str:
        target = AccountRef(account_id=tweet.in_reply_to_user_id_str, handle=tweet.in_reply_to_screen_name)
        engage("reply", target, tweet.in_reply_to_status_id_str, terms)
    if tweet.quoted_status is not None:
        engage(
            "quote", tweet.quoted_status.user.ref(), tweet.quoted_status.id_str, tweet.quoted_status.terms()
        )
    for mention in tweet.full_entities().user_mentions:
        engage(
            "mention",
            AccountRef(account_id=mention.id_str, handle=mention.screen_name, name=mention.name),
            tweet.id_str,
            terms,
        )
    return out


class TwitterAdapter:
    """Account Activity API adapter.

    Examples
    --------
    >>> TwitterAdapter().handshake({"crc_token": "t"}, b"k", None).body[:30]
    '{"response_token": "sha256=5/y'
    """

    network = "twitter"
    webhooks = True

    def handshake(
        self, query: Mapping[str, str], secret: bytes, verify_token: str | None
    ) -> HandshakeResponse:
        token = query.get("crc_token")
        if not token:
            raise HandshakeError("crc_token query parameter is required")
        body = json.dumps({"response_token": "sha256=" + hmac_b64(secret, token.encode())})
        return HandshakeResponse(200, body, "application/json")

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: bytes) -> bool:
        return signature_matches(header(headers, SIGNATURE_HEADER), "sha256=" + hmac_b64(secret, raw_body))

    def parse(self, raw_body: bytes, headers: Mapping[str, str]) -> Parsed:
        payload = validate(AccountActivity, load_json(raw_body), "Account Activity payload")
        activities: list[Activity] = []
        rejected: list[dict[str, Any]] = []
        for i, raw in enumerate(payload.tweet_create_events):
            try:
                activities.extend(tweet_activities(validate(Tweet, raw, "tweet")))
            except EVENT_ERRORS as exc:
                rejected.append(rejection(["tweet_create_events", i], exc))
        for i, raw in enumerate(payload.favorite_events):
            try:
                activities.extend(_favorite(validate(FavoriteEvent, raw, "favorite event")))
            except EVENT_ERRORS as exc:
                rejected.append(rejection(["favorite_events", i], exc))
        for i, raw in enumerate(payload.follow_events):
            try:
                activities.extend(_follow(validate(FollowEvent, raw, "follow event")))
            except EVENT_ERRORS as exc:
                rejected.append(rejection(["follow_events", i], exc))
        sent_at = max((a.timestamp for a in activities), default=None)
        return Parsed(activities=activities, sent_at=sent_at, rejected=rejected)


def _favorite(fav: FavoriteEvent) -> list[Activity]:
    status = fav.favorited_status
    if fav.user.id_str == status.user.id_str:
        return []
    return [
        Activity(
            network="twitter",
            kind="like",
            activity_id=f"like:{fav.id}",
            timestamp=_timestamp(fav.timestamp_ms, fav.created_at),
            actor=fav.user.ref(),
            target=status.user.ref(),
            post_id=status.id_str,
            terms=status.terms(),
        )
    ]


def _follow(follow: FollowEvent) -> list[Activity]:
    if follow.type != "follow" or follow.source.id_str == follow.target.id_str:
        return []
    ts = _timestamp(follow.created_timestamp, None)
    return [
        Activity(
            network="twitter",
            kind="follow",
            activity_id=f"follow:{follow.source.id_str}:{follow.target.id_str}:{ts}",
            timestamp=ts,
            actor=follow.source.ref(),
            target=follow.target.ref(),
        )
    ]


ADAPTER = TwitterAdapter()
