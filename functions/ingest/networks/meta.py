"""Meta webhooks (Facebook Pages and Instagram), shared by ``facebook`` and ``instagram``.

Handshake: ``GET ?hub.mode=subscribe&hub.verify_token=V&hub.challenge=C`` answered with ``C`` when
``V`` is our verify token (403 otherwise). Deliveries: ``POST`` with ``X-Hub-Signature-256:
sha256=<hex HMAC-SHA256 of the raw body>`` under the app secret; the body is
``{"object", "entry": [{"id", "time", "changes": [{"field", "value"}]}]}`` where ``entry.id`` is the
subscribed page or Instagram account, i.e. the author who receives the engagement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.ingest.networks.base import (
    EVENT_ERRORS,
    Activity,
    HandshakeError,
    HandshakeResponse,
    Parsed,
    PayloadError,
    header,
    hmac_hex,
    load_json,
    rejection,
    signature_matches,
    validate,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Change(_Model):
    field: str = Field(min_length=1)
    value: dict[str, Any]


class Entry(_Model):
    id: str = Field(min_length=1)
    time: int
    changes: list[Any] = Field(default_factory=list)  # validated one by one (``Change``)

    def seconds(self) -> int:
        return self.time // 1000 if self.time > 100_000_000_000 else self.time  # some objects send ms


class Notification(_Model):
    object: str = Field(min_length=1)
    entry: list[Any] = Field(min_length=1)  # validated one by one (``Entry``): a bad entry is refused alone


ChangeParser = Callable[[Entry, Change], list[Activity]]


def meta_handshake(query: Mapping[str, str], verify_token: str | None) -> HandshakeResponse:
    """Answer Meta's (and WebSub's) ``hub.*`` verification request.

    Examples
    --------
    >>> meta_handshake({"hub.mode": "subscribe", "hub.verify_token": "v", "hub.challenge": "42"}, "v").body
    '42'
    """
    mode, challenge, token = query.get("hub.mode"), query.get("hub.challenge"), query.get("hub.verify_token")
    if mode != "subscribe" or not challenge:
        raise HandshakeError("hub.mode=subscribe and hub.challenge are required")
    if verify_token is None or token is None or not signature_matches(token, verify_token):
        raise HandshakeError("hub.verify_token does not match", status=403)
    return HandshakeResponse(200, challenge)


class MetaAdapter:
    """Base of the Facebook and Instagram adapters: one change parser per ``changes[].field``."""

    network = "meta"
    webhooks = True
    parsers: Mapping[str, ChangeParser] = {}

    def handshake(
        self, query: Mapping[str, str], secret: bytes, verify_token: str | None
    ) -> HandshakeResponse:
        return meta_handshake(query, verify_token)

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: bytes) -> bool:
        return signature_matches(header(headers, SIGNATURE_HEADER), "sha256=" + hmac_hex(secret, raw_body))

    def parse(self, raw_body: bytes, headers: Mapping[str, str]) -> Parsed:
        note = validate(Notification, load_json(raw_body), f"{self.network} webhook notification")
        activities: list[Activity] = []
        rejected: list[dict[str, Any]] = []
        times: list[int] = []
        for i, raw_entry in enumerate(note.entry):
            try:
                entry = validate(Entry, raw_entry, "entry")
            except EVENT_ERRORS as exc:
                rejected.append(rejection(["entry", i], exc))
                continue
            times.append(entry.seconds())
            for j, raw_change in enumerate(entry.changes):
                try:
                    change = validate(Change, raw_change, "change")
                    parser = self.parsers.get(change.field)
                    if parser is not None:
                        activities.extend(parser(entry, change))
                except EVENT_ERRORS as exc:
                    rejected.append(rejection(["entry", i, "changes", j], exc))
        if not times:
            raise PayloadError(f"no valid entry in the {self.network} notification", rejected[:20])
        return Parsed(activities=activities, sent_at=max(times), rejected=rejected)
