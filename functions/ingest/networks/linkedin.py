"""LinkedIn webhooks (organization social action notifications).

Handshake: ``GET ?challengeCode=C`` answered with ``{"challengeCode": C, "challengeResponse":
hex(HMAC-SHA256(client_secret, C))}``. Deliveries: ``POST`` with ``X-LI-Signature``, a hex HMAC-SHA256
under the client secret. LinkedIn's documentation computes it over ``"hmacsha256=" + body``; some
integrations sign the bare body, so both are accepted (either needs the secret), compared in constant
time. Body: ``{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [{"notificationId",
"organizationalEntity", "action", "actor", "sourcePost", "lastModifiedAt", ...}]}``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
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
    hmac_hex,
    load_json,
    rejection,
    terms_of,
    validate,
)

SIGNATURE_HEADER = "X-LI-Signature"
_KINDS = {
    "LIKE": "like",
    "COMMENT": "comment",
    "ADMIN_COMMENT": "comment",
    "SHARE": "share",
    "SHARE_MENTION": "mention",
    "COMMENT_MENTION": "mention",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DecoratedComment(_Model):
    text: str | None = None


class DecoratedActivity(_Model):
    comment: DecoratedComment | None = None


class Notification(_Model):
    notificationId: int | str  # noqa: N815 (LinkedIn's field names)
    organizationalEntity: str = Field(min_length=1)  # noqa: N815
    action: str
    actor: str | None = None
    sourcePost: str | None = None  # noqa: N815
    lastModifiedAt: int  # noqa: N815 (epoch milliseconds)
    decoratedGeneratedActivity: DecoratedActivity | None = None  # noqa: N815


class Delivery(_Model):
    type: str
    notifications: list[Any] = Field(min_length=1)  # validated one by one (``Notification``)


def urn_id(urn: str) -> str:
    """The id part of a LinkedIn URN.

    Examples
    --------
    >>> urn_id("urn:li:organization:2414183")
    '2414183'
    """
    return urn.rsplit(":", 1)[-1]


class LinkedInAdapter:
    network = "linkedin"
    webhooks = True

    def handshake(
        self, query: Mapping[str, str], secret: bytes, verify_token: str | None
    ) -> HandshakeResponse:
        code = query.get("challengeCode")
        if not code:
            raise HandshakeError("challengeCode query parameter is required")
        body = json.dumps({"challengeCode": code, "challengeResponse": hmac_hex(secret, code.encode())})
        return HandshakeResponse(200, body, "application/json")

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: bytes) -> bool:
        value = header(headers, SIGNATURE_HEADER)
        if not value:
            return False
        given = value.strip().removeprefix("hmacsha256=").encode()
        documented = hmac_hex(secret, b"hmacsha256=" + raw_body).encode()
        bare = hmac_hex(secret, raw_body).encode()
        return hmac.compare_digest(given, documented) | hmac.compare_digest(given, bare)

    def parse(self, raw_body: bytes, headers: Mapping[str, str]) -> Parsed:
        delivery = validate(Delivery, load_json(raw_body), "LinkedIn notification")
        activities: list[Activity] = []
        rejected: list[dict[str, Any]] = []
        notes: list[Notification] = []
        for i, raw in enumerate(delivery.notifications):
            try:
                note = validate(Notification, raw, "notification")
                notes.append(note)
                activities.extend(_activities(note))
            except EVENT_ERRORS as exc:
                rejected.append(rejection(["notifications", i], exc))
        if not notes:
            raise PayloadError("no valid notification in the LinkedIn delivery", rejected[:20])
        sent_at = max(n.lastModifiedAt for n in notes) // 1000
        ids = ",".join(sorted(str(n.notificationId) for n in notes))
        return Parsed(
            activities=activities,
            sent_at=sent_at,
            delivery_id=f"linkedin:{ids}" if len(ids) < 200 and not rejected else None,
            rejected=rejected,
        )


def _activities(note: Notification) -> list[Activity]:
    kind = _KINDS.get(note.action)
    if kind is None or not note.actor:
        return []
    actor, author = urn_id(note.actor), urn_id(note.organizationalEntity)
    if actor == author:
        return []
    text = (
        note.decoratedGeneratedActivity.comment.text
        if note.decoratedGeneratedActivity and note.decoratedGeneratedActivity.comment
        else None
    )
    return [
        Activity(
            network="linkedin",
            kind=kind,  # type: ignore[arg-type]
            activity_id=f"{kind}:{note.notificationId}",
            timestamp=note.lastModifiedAt // 1000,
            actor=AccountRef(account_id=actor),
            target=AccountRef(account_id=author),
            post_id=note.sourcePost,
            terms=terms_of(text),
        )
    ]


ADAPTER = LinkedInAdapter()
