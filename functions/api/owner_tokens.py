"""Owner tokens: what a person sends in ``x-renown-owner-token`` to act on their own profile.

A token is ``ot_<id>.<issued>.<expires>.<mac>`` with ``mac = b64url(HMAC-SHA256(k, "owner-token:<id>:
<profile id>:<issued>:<expires>"))`` under ``settings.widget_signing_key``:

- **scoped**: the profile id is inside the MAC, so a token of one profile never opens another
  (403 ``invalid-owner-token``) and the token itself names no profile;
- **expiring**: past ``expires`` it is refused (401 ``owner-token-expired``);
- **revocable**: one token (``REVOKED#<id>``) or every token of the profile issued up to a time
  (``NOTBEFORE``), both under ``OWNERTOKENS#<hash of the profile id>`` (401 ``owner-token-revoked``).

A person gets one by proving they own an account (``POST /v1/ownership/challenges``, then the token
exchange); see ``docs/api.md``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "ot_"
DAY_S = 86_400
MAX_TTL_DAYS = 90


@dataclass(frozen=True)
class OwnerToken:
    """A parsed owner token (its MAC not checked yet)."""

    token_id: str
    issued_at: int
    expires_at: int
    mac: str


def _mac(secret: bytes, token_id: str, profile_id: str, issued_at: int, expires_at: int) -> str:
    message = f"owner-token:{token_id}:{profile_id}:{issued_at}:{expires_at}".encode()
    return base64.urlsafe_b64encode(hmac.new(secret, message, hashlib.sha256).digest()).rstrip(b"=").decode()


def issue(secret: bytes, profile_id: str, now: float, ttl_days: int = 30) -> tuple[str, OwnerToken]:
    """A new owner token of ``profile_id`` valid for ``ttl_days``; returns (token, its parts).

    Examples
    --------
    >>> token, parts = issue(b"k", "p1", now=0, ttl_days=1)
    >>> token.startswith("ot_"), parts.expires_at
    (True, 86400)
    """
    token_id = secrets.token_hex(8)
    issued_at = int(now)
    expires_at = issued_at + ttl_days * DAY_S
    mac = _mac(secret, token_id, profile_id, issued_at, expires_at)
    return f"{PREFIX}{token_id}.{issued_at}.{expires_at}.{mac}", OwnerToken(
        token_id, issued_at, expires_at, mac
    )


def parse(token: str | None) -> OwnerToken | None:
    """The parts of a token, or None when it is not shaped like one.

    Examples
    --------
    >>> parse("ot_ab.1.2.mac").expires_at, parse("own_legacy"), parse("ot_a.x.2.m")
    (2, None, None)
    """
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return None
    parts = token[len(PREFIX) :].split(".")
    if len(parts) != 4 or not all(parts):
        return None
    token_id, issued, expires, mac = parts
    if not (issued.isdigit() and expires.isdigit() and token_id.isalnum()):
        return None
    return OwnerToken(token_id, int(issued), int(expires), mac)


def signed_for(secret: bytes, profile_id: str, parts: OwnerToken) -> bool:
    """True when ``parts`` carry a valid MAC for ``profile_id`` (constant-time comparison).

    Examples
    --------
    >>> token, parts = issue(b"k", "p1", now=0)
    >>> signed_for(b"k", "p1", parts), signed_for(b"k", "p2", parts)
    (True, False)
    """
    expected = _mac(secret, parts.token_id, profile_id, parts.issued_at, parts.expires_at)
    return hmac.compare_digest(expected.encode(), parts.mac.encode())
