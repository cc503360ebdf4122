"""WebSub subscriptions (YouTube push): the service confirms only what it asked the hub for.

The subscriber side (:func:`request`) records its intent in the topic's lease record
(``WebSubLeaseRecord``: ``pending_mode``, valid ``PENDING_S``) **before** it asks the hub; the hub then
verifies the intent with a ``GET ?hub.mode=..&hub.topic=..&hub.challenge=..`` on the callback, which the
receiver confirms (echoes the challenge) only when the topic has a matching pending request
(:meth:`TableLeaseBook.confirm`); anything else is answered 404, as WebSub asks of a subscriber that did
not ask. A confirmed subscription keeps ``lease_expires_at``; :func:`renew_due` asks again for leases
ending within a margin (GSI1 ``WEBSUB`` ordered by lease end).
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import ClientError

from functions.shared import keys
from functions.shared.records import WebSubLeaseRecord

#: YouTube's hub.
HUB_URL = "https://pubsubhubbub.appspot.com/subscribe"
#: How long a request to the hub waits for its verification (the hub verifies within seconds).
PENDING_S = 3600
#: The lease asked for (YouTube grants at most about 10 days; it answers with its own).
LEASE_S = 432_000
#: Leases ending within this margin are renewed by :func:`renew_due`.
RENEW_MARGIN_S = 86_400

HubPost = Callable[[str, dict[str, str]], int]


class LeaseBook(Protocol):
    """Where the receiver checks and records WebSub verifications."""

    def confirm(self, mode: str, topic: str, lease_seconds: int | None, now: float) -> bool:
        """True (and recorded) when the service asked the hub for ``mode`` on ``topic`` and the request
        is still pending; False otherwise (the verification is refused)."""
        ...


def post_form(url: str, form: dict[str, str]) -> int:
    """POST ``form`` (urlencoded) to the hub; returns the HTTP status (202 when accepted)."""
    data = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(url, data=data, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(req, timeout=10) as answer:
        return int(answer.status)


def _attr(value: str | int | bool) -> dict[str, Any]:
    """A lease attribute (strings, integers, booleans only) as a DynamoDB attribute value.

    Examples
    --------
    >>> _attr(True), _attr(3), _attr("x")
    ({'BOOL': True}, {'N': '3'}, {'S': 'x'})
    """
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": str(value)}


def _record(item: dict[str, Any]) -> WebSubLeaseRecord:
    """A lease record from a low-level item."""
    plain: dict[str, Any] = {}
    for name, attr in item.items():
        ((kind, value),) = attr.items()
        plain[name] = int(value) if kind == "N" else value
    record: WebSubLeaseRecord = WebSubLeaseRecord.from_item(plain)
    return record


class TableLeaseBook:
    """Lease records in the single table, through the low-level DynamoDB ``client`` (the receiver makes
    no boto3 resource: it only confirms, with plain attribute values)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    @staticmethod
    def _key(topic: str) -> dict[str, Any]:
        return {"PK": {"S": keys.websub_pk(topic)}, "SK": {"S": keys.LEASE_SK}}

    def get(self, topic: str) -> WebSubLeaseRecord | None:
        item = self.client.get_item(TableName=self.table_name, Key=self._key(topic)).get("Item")
        return None if item is None else _record(item)

    def note_request(self, topic: str, callback: str, mode: str, now: float) -> None:
        """Record that the service is about to ask the hub for ``mode`` on ``topic``."""
        lease = self.get(topic) or WebSubLeaseRecord(topic=topic)
        lease = lease.model_copy(
            update={
                "callback": callback,
                "pending_mode": mode,
                "pending_until": int(now) + PENDING_S,
                "requested_at": int(now),
            }
        )
        item = {k: _attr(v) for k, v in lease.to_item().items()}
        self.client.put_item(TableName=self.table_name, Item=item)

    def confirm(self, mode: str, topic: str, lease_seconds: int | None, now: float) -> bool:
        """Confirm a verification that matches the pending request (one conditional update, so two
        verifications of one request cannot both pass)."""
        key = self._key(topic)
        subscribe = mode == "subscribe"
        expires = int(now) + max(0, int(lease_seconds or 0)) if subscribe else 0
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression=(
                    "SET subscribed = :sub, confirmed_at = :now, lease_expires_at = :exp, "
                    "GSI1SK = :g1sk, pending_mode = :none, pending_until = :zero"
                ),
                ConditionExpression="topic = :topic AND pending_mode = :mode AND pending_until >= :now",
                ExpressionAttributeValues={
                    ":sub": {"BOOL": subscribe},
                    ":now": {"N": str(int(now))},
                    ":exp": {"N": str(expires)},
                    ":g1sk": {"S": f"{expires:012d}#{key['PK']['S']}"},
                    ":none": {"S": ""},
                    ":zero": {"N": "0"},
                    ":topic": {"S": topic},
                    ":mode": {"S": mode},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def ending_before(self, until: float) -> list[WebSubLeaseRecord]:
        """Active leases that end before ``until`` (GSI1 ``WEBSUB``, by lease end)."""
        out: list[WebSubLeaseRecord] = []
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.WEBSUB_GSI1PK},
                ":lo": {"S": f"{1:012d}"},
                ":hi": {"S": f"{int(until):012d}~"},
            },
        }
        while True:
            page = self.client.query(**query)
            for item in page.get("Items", []):
                out.append(_record(item))
            if "LastEvaluatedKey" not in page:
                return [lease for lease in out if lease.subscribed]
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def request(
    book: TableLeaseBook,
    topic: str,
    callback: str,
    secret: bytes,
    now: float,
    *,
    mode: str = "subscribe",
    verify_token: str | None = None,
    hub: str = HUB_URL,
    post: HubPost = post_form,
) -> int:
    """Ask the hub to (un)subscribe ``callback`` to ``topic``: the intent is recorded first, so the hub's
    verification finds it. Returns the hub's HTTP status (202: it will verify).

    Examples
    --------
    >>> # book = TableLeaseBook(aws.client("dynamodb"), settings.table_name)
    >>> # request(book, feed_url, "https://api.example/webhooks/youtube", secret, now)
    """
    if mode not in ("subscribe", "unsubscribe"):
        raise ValueError(f"mode must be subscribe or unsubscribe, not {mode!r}")
    book.note_request(topic, callback, mode, now)
    form = {
        "hub.callback": callback,
        "hub.topic": topic,
        "hub.mode": mode,
        "hub.verify": "async",
        "hub.lease_seconds": str(LEASE_S),
        "hub.secret": secret.decode(),
    }
    if verify_token:
        form["hub.verify_token"] = verify_token
    return post(hub, form)


def renew_due(
    book: TableLeaseBook,
    secret: bytes,
    now: float,
    *,
    margin_s: float = RENEW_MARGIN_S,
    verify_token: str | None = None,
    post: HubPost = post_form,
) -> list[str]:
    """Resubscribe every lease that ends within ``margin_s`` (before it lapses); returns their topics."""
    topics = []
    for lease in book.ending_before(now + margin_s):
        request(book, lease.topic, lease.callback, secret, now, verify_token=verify_token, post=post)
        topics.append(lease.topic)
    return topics
