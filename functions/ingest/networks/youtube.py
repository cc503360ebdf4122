"""YouTube push notifications (WebSub / PubSubHubbub, Atom XML).

Handshake: ``GET ?hub.mode=subscribe|unsubscribe&hub.topic=..&hub.challenge=C&hub.lease_seconds=N``
answered with ``C`` (with ``hub.verify_token`` checked when the hub sends one), and only for a change the
service asked the hub for (``functions.ingest.websub``, checked by the receiver). Deliveries: ``POST``
of an Atom feed signed with ``X-Hub-Signature: sha1=<hex>`` (or ``sha256=``) under the subscription's
``hub.secret``. The XML is parsed with DTDs and entities refused (``base.load_xml``).

YouTube only pushes uploads and edits of a channel's videos (``post`` activities, with title terms):
views, likes and comments are not pushed, so YouTube adds topic evidence and activity, not edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

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
    load_xml,
    rejection,
    signature_matches,
    terms_of,
)

SIGNATURE_HEADER = "X-Hub-Signature"
ATOM = "{http://www.w3.org/2005/Atom}"
YT = "{http://www.youtube.com/xml/schemas/2015}"


def parse_time(text: str | None) -> int:
    """Unix seconds of an Atom date (YouTube sends nanoseconds, which Python cannot parse).

    Examples
    --------
    >>> parse_time("2015-03-09T19:05:24.552394234+00:00")
    1425927924
    """
    if not text:
        raise PayloadError(
            "entry has no date", [{"loc": ["entry", "updated"], "msg": "missing", "type": "missing"}]
        )
    value = text.strip().replace("Z", "+00:00")
    if "." in value:
        head, tail = value.split(".", 1)
        digits = "".join(c for c in tail if c.isdigit())
        value = f"{head}.{digits[:6]}{tail[len(digits) :]}"
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except (ValueError, OverflowError, OSError) as exc:
        raise PayloadError(
            f"not an Atom date: {text[:40]}",
            [{"loc": ["entry", "updated"], "msg": text[:40], "type": "datetime_parsing"}],
        ) from exc


def _text(element: ElementTree.Element, path: str) -> str | None:
    found = element.find(path)
    return found.text.strip() if found is not None and found.text else None


class YouTubeAdapter:
    network = "youtube"
    webhooks = True

    def handshake(
        self, query: Mapping[str, str], secret: bytes, verify_token: str | None
    ) -> HandshakeResponse:
        mode, challenge = query.get("hub.mode"), query.get("hub.challenge")
        if mode not in ("subscribe", "unsubscribe") or not challenge:
            raise HandshakeError("hub.mode and hub.challenge are required")
        token = query.get("hub.verify_token")
        if token is not None and (verify_token is None or not signature_matches(token, verify_token)):
            raise HandshakeError("hub.verify_token does not match", status=403)
        return HandshakeResponse(200, challenge)

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: bytes) -> bool:
        given = header(headers, SIGNATURE_HEADER) or ""
        algorithm = given.split("=", 1)[0].strip().lower()
        if algorithm not in ("sha1", "sha256"):
            return False
        return signature_matches(given, f"{algorithm}=" + hmac_hex(secret, raw_body, algorithm))

    def parse(self, raw_body: bytes, headers: Mapping[str, str]) -> Parsed:
        root = load_xml(raw_body)
        if root.tag != f"{ATOM}feed":
            raise PayloadError(
                "body is not an Atom feed", [{"loc": ["feed"], "msg": root.tag[:80], "type": "xml_root"}]
            )
        activities: list[Activity] = []
        rejected: list[dict[str, Any]] = []
        times: list[int] = []
        for i, entry in enumerate(root.findall(f"{ATOM}entry")):
            try:
                activity, updated = _entry(entry)
            except EVENT_ERRORS as exc:
                rejected.append(rejection(["entry", i], exc))
                continue
            times.append(updated)
            activities.append(activity)
        return Parsed(activities=activities, sent_at=max(times) if times else None, rejected=rejected)


def _entry(entry: ElementTree.Element) -> tuple[Activity, int]:
    """One Atom entry: the upload (a post) and the entry's update time."""
    video, channel = _text(entry, f"{YT}videoId"), _text(entry, f"{YT}channelId")
    if not video or not channel:
        raise PayloadError(
            "entry lacks yt:videoId or yt:channelId",
            [{"loc": ["entry"], "msg": "missing", "type": "missing"}],
        )
    updated = parse_time(_text(entry, f"{ATOM}updated") or _text(entry, f"{ATOM}published"))
    published = parse_time(_text(entry, f"{ATOM}published") or _text(entry, f"{ATOM}updated"))
    name = _text(entry, f"{ATOM}author/{ATOM}name")
    activity = Activity(
        network="youtube",
        kind="post",
        activity_id=f"post:{video}",
        timestamp=published,
        actor=AccountRef(account_id=channel, name=name),
        post_id=video,
        terms=terms_of(_text(entry, f"{ATOM}title")),
    )
    return activity, updated


ADAPTER = YouTubeAdapter()
