"""The adapter protocol every network implements, the normalised ``Activity`` and shared helpers.

An adapter turns one network's webhook scheme into three pure steps that the receiver and the
processor call: answer a handshake (``handshake``), check a delivery's signature over the raw body
(``verify``) and turn a verified body into normalised activities (``parse``). Adapters never touch
AWS; adding a network is one module that defines an adapter plus its sample events.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import urlsplit
from xml.etree import ElementTree
from xml.parsers import expat

from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)
Kind = Literal["post", "like", "share", "mention", "reply", "quote", "follow", "comment", "edit", "view"]
ENGAGEMENT_KINDS: frozenset[str] = frozenset(
    {"like", "share", "mention", "reply", "quote", "follow", "comment", "edit", "view"}
)


class IngestError(Exception):
    """Base class of the errors an adapter raises for input it must refuse."""


class PayloadError(IngestError):
    """The body is malformed (not JSON/XML) or misses required fields: the receiver answers 400.

    ``errors`` is a machine-readable list of ``{"loc": [...], "msg": str, "type": str}``.
    """

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    @classmethod
    def from_validation(cls, exc: ValidationError, what: str) -> PayloadError:
        errors = [
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        return cls(f"{what} is missing fields or has fields of the wrong type", errors[:20])


class HandshakeError(IngestError):
    """A handshake request is incomplete (``status`` 400) or carries a wrong verify token (403)."""

    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


class AccountRef(BaseModel):
    """A network account as a delivery shows it (only ``account_id`` is always known)."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    handle: str | None = None
    name: str | None = None
    followers: int | None = None
    created: int | None = None  # unix seconds of the account's creation, when the network reports it


class Activity(BaseModel):
    """One normalised activity: a post by ``actor`` or an engagement of ``actor`` with ``target``.

    Examples
    --------
    >>> a = Activity(network="twitter", kind="like", activity_id="fav:1", timestamp=1700000000,
    ...              actor=AccountRef(account_id="2"), target=AccountRef(account_id="1"))
    >>> a.is_engagement
    True
    """

    model_config = ConfigDict(frozen=True)

    network: str
    kind: Kind
    activity_id: str
    timestamp: int  # unix seconds
    actor: AccountRef
    target: AccountRef | None = None  # the author engaged with (None for posts)
    post_id: str | None = None  # the post created, or the post engaged with
    terms: tuple[str, ...] = ()  # hashtags, keywords, link domains of the post concerned

    @property
    def is_engagement(self) -> bool:
        return self.kind in ENGAGEMENT_KINDS and self.target is not None


@dataclass(frozen=True)
class HandshakeResponse:
    """What the receiver answers to a handshake request."""

    status: int
    body: str
    content_type: str = "text/plain"


@dataclass(frozen=True)
class Parsed:
    """A parsed delivery: its activities and, where the scheme gives one, when it was sent."""

    activities: list[Activity]
    sent_at: int | None = None  # unix seconds; used to reject stale deliveries
    delivery_id: str | None = None  # the network's own id of the delivery, when it has one
    extra: dict[str, Any] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # malformed events, refused alone
    accounts: list[AccountRef] = field(default_factory=list)  # account metadata seen without an activity


def rejection(loc: list[Any], exc: Exception) -> dict[str, Any]:
    """One refused event of a delivery, ``{"loc", "msg", "type"}`` (the rest of the delivery is kept).

    Examples
    --------
    >>> rejection(["entry", 0], PayloadError("entry has no date"))
    {'loc': ['entry', '0'], 'msg': 'entry has no date', 'type': 'invalid_event'}
    >>> rejection(["entry", 1], PayloadError("bad", [{"loc": ["time"], "msg": "missing", "type": "missing"}]))
    {'loc': ['entry', '1', 'time'], 'msg': 'missing', 'type': 'missing'}
    """
    where = [str(p) for p in loc]
    if isinstance(exc, ValidationError):
        exc = PayloadError.from_validation(exc, "event")
    if isinstance(exc, PayloadError) and exc.errors:
        first = exc.errors[0]
        inner = first.get("loc") if isinstance(first.get("loc"), list) else []
        return {
            "loc": where + [str(p) for p in inner or []],
            "msg": str(first.get("msg", exc.detail))[:200],
            "type": str(first.get("type", "invalid_event")),
        }
    return {"loc": where, "msg": str(exc)[:200], "type": "invalid_event"}


EVENT_ERRORS: tuple[type[Exception], ...] = (PayloadError, ValidationError)  # what refuses one event


class Adapter(Protocol):
    """What a network module provides (see ``functions.ingest.networks.twitter`` for an example)."""

    network: str
    webhooks: bool  # False for pull-only sources (no receiver route)

    def handshake(
        self, query: Mapping[str, str], secret: bytes, verify_token: str | None
    ) -> HandshakeResponse:
        """Answer a GET handshake; raise ``HandshakeError`` when it is incomplete or wrong."""
        ...

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: bytes) -> bool:
        """True when the delivery's signature matches ``raw_body`` (constant-time compare)."""
        ...

    def parse(self, raw_body: bytes, headers: Mapping[str, str]) -> Parsed:
        """Activities of a verified delivery; raise ``PayloadError`` when it is malformed."""
        ...


# --- signing helpers ----------------------------------------------------------------------------


def hmac_hex(secret: bytes, message: bytes, algorithm: str = "sha256") -> str:
    """Hex HMAC of ``message``.

    Examples
    --------
    >>> hmac_hex(b"k", b"m")[:8]
    'b60090e3'
    """
    return hmac.new(secret, message, algorithm).hexdigest()


def hmac_b64(secret: bytes, message: bytes) -> str:
    """Base64 HMAC-SHA256 of ``message`` (the Twitter scheme).

    Examples
    --------
    >>> hmac_b64(b"k", b"m")[:8]
    'tgCQ4wUi'
    """
    return base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode()


def signature_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a signature header value with the expected one.

    Examples
    --------
    >>> signature_matches("sha256=ab", "sha256=ab"), signature_matches(None, "x")
    (True, False)
    """
    if not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (API Gateway keeps the sender's case)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- payload helpers ------------------------------------------------------------------------------


def load_json(raw_body: bytes) -> Any:
    """Decode a JSON body or raise ``PayloadError``.

    Examples
    --------
    >>> load_json(b'{"a": 1}')
    {'a': 1}
    """
    try:
        return json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PayloadError(
            f"body is not valid UTF-8 JSON: {exc}",
            [{"loc": ["body"], "msg": str(exc)[:200], "type": "json_invalid"}],
        ) from exc


def validate(model: type[M], data: Any, what: str) -> M:
    """Validate ``data`` against ``model`` or raise ``PayloadError`` with the field errors."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError.from_validation(exc, what) from exc


def load_xml(raw_body: bytes) -> ElementTree.Element:
    """Parse an XML body safely: DTDs and entity declarations are refused, no entity is expanded.

    This is what ``defusedxml`` does for ``ElementTree``; expat never fetches external entities.

    Examples
    --------
    >>> load_xml(b"<a><b>1</b></a>").find("b").text
    '1'
    """

    def refuse(*_: Any) -> Any:
        raise PayloadError(
            "XML with a DTD or entity declarations is refused",
            [{"loc": ["body"], "msg": "DTD", "type": "xml_forbidden"}],
        )

    guard = expat.ParserCreate()  # first pass: refuse DTDs and entities before building a tree
    guard.StartDoctypeDeclHandler = refuse
    guard.EntityDeclHandler = refuse
    guard.UnparsedEntityDeclHandler = refuse
    guard.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    try:
        guard.Parse(raw_body, True)
        return ElementTree.fromstring(raw_body)
    except (expat.ExpatError, ElementTree.ParseError, LookupError, ValueError) as exc:  # unknown encoding
        raise PayloadError(
            f"body is not well-formed XML: {exc}",
            [{"loc": ["body"], "msg": str(exc)[:200], "type": "xml_invalid"}],
        ) from exc


_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,50})", re.UNICODE)
_MENTION = re.compile(r"(?<![\w@])@(\w{2,30})", re.UNICODE)
_STOP = frozenset(
    [
        "with",
        "that",
        "this",
        "from",
        "have",
        "your",
        "were",
        "just",
        "will",
        "about",
        "into",
        "their",
        "them",
        "they",
        "what",
        "when",
        "where",
        "which",
        "more",
        "than",
        "then",
        "there",
        "these",
        "https",
    ]
)
_WORD = re.compile(r"[a-z][a-z0-9]{3,29}")


def terms_of(
    text: str | None, hashtags: list[str] | None = None, urls: list[str] | None = None, keywords: int = 3
) -> tuple[str, ...]:
    """Topic terms of a post: ``#hashtags``, link ``domain:`` names, ``@mentions`` (two), a few
    longest keywords and two-word names (two, ``higgs-boson``): what the topic mapper reads.

    Examples
    --------
    >>> terms_of("The #Higgs boson at CERN", urls=["https://home.cern/news"])
    ('#higgs', 'domain:home.cern', 'boson', 'cern')
    >>> terms_of("Higgs boson explained by @CERN")
    ('@cern', 'boson', 'explained', 'higgs', 'higgs-boson', 'boson-explained')
    """
    found: list[str] = []
    tags = hashtags if hashtags is not None else _HASHTAG.findall(text or "")
    for tag in tags:
        term = "#" + tag.lower().lstrip("#")
        if term not in found:
            found.append(term)
    for url in urls or []:
        try:
            host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
        except ValueError:  # "http://[::1", an IDNA-invalid host, "http://[abc]/": no domain term
            continue
        if host and f"domain:{host}" not in found:
            found.append(f"domain:{host}")
    for mention in _MENTION.findall(text or "")[:2]:
        if f"@{mention.lower()}" not in found:
            found.append(f"@{mention.lower()}")
    if text and keywords:
        plain = re.sub(r"https?://\S+|[@#]\w+", " ", text.lower())
        words = [w for w in dict.fromkeys(_WORD.findall(plain)) if w not in _STOP]
        words.sort(key=len, reverse=True)
        found.extend(sorted(words[:keywords]))
        # two-word names ("higgs boson", "machine learning"): adjacent keywords, joined by "-"
        tokens = re.findall(r"\w+", plain)
        pairs = [
            f"{a}-{b}"
            for a, b in itertools.pairwise(tokens)
            if _WORD.fullmatch(a) and _WORD.fullmatch(b) and a not in _STOP and b not in _STOP
        ]
        found.extend(list(dict.fromkeys(pairs))[:2])
    return tuple(found[:12])


class PullSource(Protocol):
    """A pull-only source: parses one recorded/streamed line into activities plus its cursor
    (``Parsed.extra["cursor"]``); see ``functions.ingest.pull``."""

    network: str
    webhooks: bool

    def parse_line(self, line: str) -> Parsed:
        """Activities of one event line; raise ``PayloadError`` when it is malformed."""
        ...
