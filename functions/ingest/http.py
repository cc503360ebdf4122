"""The REST (API Gateway v1 proxy) event as a small request object, and problem+json answers.

Building a ``WebhookRequest`` never raises: whatever the event holds, the receiver gets a request it
can answer with a 4xx.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

PROBLEM_BASE = "https://renown.dev/problems/"


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    network: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_error: str | None = None  # set when the body could not be decoded (bad base64)
    request_id: str | None = None

    @classmethod
    def from_event(cls, event: Any, max_body_bytes: int) -> WebhookRequest:
        """Read a REST proxy event; bodies longer than ``max_body_bytes`` are cut to one byte over it.

        Examples
        --------
        >>> r = WebhookRequest.from_event({"httpMethod": "POST", "pathParameters": {"network": "twitter"},
        ...     "headers": {"A": "1"}, "body": "{}"}, 1024)
        >>> r.method, r.network, r.body
        ('POST', 'twitter', b'{}')
        """
        event = event if isinstance(event, dict) else {}
        method = str(event.get("httpMethod") or "GET").upper()
        params = event.get("pathParameters") or {}
        network = str(params.get("network") or "") if isinstance(params, dict) else ""
        headers = (
            {str(k): str(v) for k, v in (event.get("headers") or {}).items()}
            if isinstance(event.get("headers"), dict)
            else {}
        )
        raw_query = event.get("queryStringParameters") or {}
        query = {str(k): str(v) for k, v in raw_query.items()} if isinstance(raw_query, dict) else {}
        context = event.get("requestContext") if isinstance(event.get("requestContext"), dict) else {}
        body: bytes = b""
        error = None
        raw = event.get("body")
        if isinstance(raw, str) and raw:
            if event.get("isBase64Encoded"):
                if len(raw) > (max_body_bytes + 3) * 4 // 3 + 4:
                    body = b"\0" * (max_body_bytes + 1)
                else:
                    try:
                        body = base64.b64decode(raw, validate=True)
                    except (binascii.Error, ValueError):
                        error = "body is not valid base64"
            else:
                body = raw[: max_body_bytes + 1].encode("utf-8", "surrogatepass")[: max_body_bytes + 1]
                if len(raw) <= max_body_bytes + 1:
                    body = raw.encode("utf-8", "surrogatepass")
        return cls(method, network, headers, query, body, error, str(context.get("requestId") or "") or None)


def response(
    status: int, body: str, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A REST proxy response (both header maps, as API Gateway and the local gateway read them)."""
    all_headers = {"Content-Type": content_type, "Cache-Control": "no-store", **(headers or {})}
    return {
        "statusCode": status,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "body": body,
        "isBase64Encoded": False,
    }


def problem(
    status: int, slug: str, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An RFC 9457 ``application/problem+json`` response.

    Examples
    --------
    >>> r = problem(401, "bad-signature", "Signature does not match", "x-twitter-webhooks-signature")
    >>> r["statusCode"], json.loads(r["body"])["type"]
    (401, 'https://renown.dev/problems/bad-signature')
    """
    payload = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors or [],
    }
    return response(status, json.dumps(payload), "application/problem+json")
