"""Mastodon server webhooks (admin-configured, ``status.created`` and friends).

No handshake. Deliveries: ``POST`` of ``{"event", "created_at", "object"}`` signed with
``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` under the webhook's secret.
``status.created`` yields the post plus its engagements: a boost (``reblog``) is a ``share``, a reply
(``in_reply_to_account_id``) a ``reply``, and every other entry of ``mentions`` a ``mention``.
Accounts are named by their ``acct`` (``user`` for local, ``user@domain`` for remote accounts), which
is stable across servers, unlike the server-local numeric ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from functions.ingest.networks.base import (
    AccountRef,
    Activity,
    HandshakeError,
    HandshakeResponse,
    Parsed,
    PayloadError,
    header,
    hmac_hex,
    load_json,
    signature_matches,
    terms_of,
    validate,
)

SIGNATURE_HEADER = "X-Hub-Signature"
_TAG = re.compile(r"<[^>]+>")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Account(_Model):
    id: str = Field(min_length=1)
    acct: str = Field(min_length=1)
    display_name: str | None = None
    followers_count: int | None = None
    created_at: str | None = None  # when the account was created (ISO 8601, midnight of the day)

    def ref(self) -> AccountRef:
        return AccountRef(
            account_id=self.acct.lower(),
            handle=self.acct,
            name=self.display_name,
            followers=self.followers_count,
            created=account_created(self.created_at),
        )


def account_created(created_at: str | None) -> int | None:
    """Unix seconds of an account's ``created_at``, or None when absent or not an ISO date (optional
    metadata never refuses the status that carries it).

    Examples
    --------
    >>> account_created("2016-11-24T00:00:00.000Z"), account_created("soon")
    (1479945600, None)
    """
    if not created_at:
        return None
    try:
        return iso_seconds(created_at)
    except PayloadError:
        return None


class StatusMention(_Model):
    id: str
    acct: str = Field(min_length=1)


class Tag(_Model):
    name: str


class Card(_Model):
    url: str | None = None


class Status(_Model):
    id: str = Field(min_length=1)
    created_at: str
    account: Account
    content: str = ""
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    reblog: Status | None = None
    mentions: list[StatusMention] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)
    card: Card | None = None

    def terms(self) -> tuple[str, ...]:
        text = _TAG.sub(" ", self.content)
        return terms_of(
            text, [t.name for t in self.tags], [self.card.url] if self.card and self.card.url else None
        )


class Event(_Model):
    event: str = Field(min_length=1)
    created_at: str
    object: dict[str, object]


def iso_seconds(text: str) -> int:
    """Unix seconds of an ISO 8601 date.

    Examples
    --------
    >>> iso_seconds("2024-01-01T00:00:00.000Z")
    1704067200
    """
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except (ValueError, OverflowError, OSError) as exc:
        raise PayloadError(
            f"not an ISO date: {text[:40]}",
            [{"loc": ["created_at"], "msg": text[:40], "type": "datetime_parsing"}],
        ) from exc


def status_activities(status: Status) -> list[Activity]:
    """Activities of one status (see the module docstring)."""
    ts, actor = iso_seconds(status.created_at), status.account.ref()
    if status.reblog is not None:
        original = status.reblog
        if original.account.acct.lower() == actor.account_id:
            return []
        return [
            Activity(
                network="mastodon",
                kind="share",
                activity_id=f"share:{status.id}",
                timestamp=ts,
                actor=actor,
                target=original.account.ref(),
                post_id=original.id,
                terms=original.terms(),
            )
        ]
    terms = status.terms()
    out = [
        Activity(
            network="mastodon",
            kind="post",
            activity_id=f"post:{status.id}",
            timestamp=ts,
            actor=actor,
            post_id=status.id,
            terms=terms,
        )
    ]
    covered = {actor.account_id}
    by_id = {m.id: m.acct.lower() for m in status.mentions}
    reply_to = by_id.get(status.in_reply_to_account_id or "")
    if reply_to and reply_to not in covered:
        covered.add(reply_to)
        out.append(
            Activity(
                network="mastodon",
                kind="reply",
                activity_id=f"reply:{status.id}",
                timestamp=ts,
                actor=actor,
                target=AccountRef(account_id=reply_to, handle=reply_to),
                post_id=status.in_reply_to_id,
                terms=terms,
            )
        )
    for mention in status.mentions:
        acct = mention.acct.lower()
        if acct not in covered:
            covered.add(acct)
            out.append(
                Activity(
                    network="mastodon",
                    kind="mention",
                    activity_id=f"mention:{status.id}:{acct}",
                    timestamp=ts,
                    actor=actor,
                    target=AccountRef(account_id=acct, handle=mention.acct),
                    post_id=status.id,
                    terms=terms,
                )
            )
    return out


class MastodonAdapter:
    network = "mastodon"
    webhooks = True

    def handshake(
        self, query: Mapping[str, str], secret: bytes, verify_token: str | None
    ) -> HandshakeResponse:
        raise HandshakeError("Mastodon webhooks have no handshake", status=405)

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: bytes) -> bool:
        return signature_matches(header(headers, SIGNATURE_HEADER), "sha256=" + hmac_hex(secret, raw_body))

    def parse(self, raw_body: bytes, headers: Mapping[str, str]) -> Parsed:
        event = validate(Event, load_json(raw_body), "Mastodon webhook event")
        activities: list[Activity] = []
        if event.event == "status.created":
            activities = status_activities(validate(Status, event.object, "status"))
        return Parsed(activities=activities, sent_at=iso_seconds(event.created_at))


ADAPTER = MastodonAdapter()
