"""Keys and tokens of the public API: API key hashes, owner tokens, publishable widget keys and signed
widget URLs. All are HMAC-SHA256 under ``settings.widget_signing_key`` (except API key hashes, plain
SHA-256) and compared in constant time.

- **API key** (``x-api-key``): secret, server-side only. Stored as ``APIKEY#<sha256(key)>``.
- **Owner token** (``x-renown-owner-token``): expiring, revocable, scoped to one profile: see
  ``functions.api.owner_tokens``.
- **Publishable key** (``?key=`` on widgets): ``pk_<b64url(origins)>.<b64url(HMAC(k, "pk:" + origins))>``;
  safe to put in a page: it only unlocks widgets, and only for pages on the listed origins.
- **Signed URL** (``?exp=&sig=`` on widgets): ``sig = b64url(HMAC(k, "url:<id>:<exp>"))``, for places
  without an ``Origin``/``Referer`` (README badges, e-mail).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _same(a: str, b: str) -> bool:
    """Constant-time comparison of two texts (as UTF-8: ``compare_digest`` refuses non-ASCII str)."""
    return hmac.compare_digest(a.encode(), b.encode())


def _mac(secret: bytes, message: str, length: int = 32) -> str:
    return _b64(hmac.new(secret, message.encode(), hashlib.sha256).digest()[:length])


def hash_api_key(api_key: str) -> str:
    """SHA-256 hex digest of an API key, as stored under ``APIKEY#``.

    Examples
    --------
    >>> hash_api_key("abc")[:12]
    'ba7816bf8f01'
    """
    return hashlib.sha256(api_key.encode()).hexdigest()


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` of a URL or origin, lower case, without a trailing slash.

    Examples
    --------
    >>> normalise_origin("https://Blog.Example/post/1?x=2")
    'https://blog.example'
    """
    parts = urlsplit(origin.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def publishable_key(secret: bytes, origins: list[str]) -> str:
    """A publishable widget key for pages on ``origins``.

    Examples
    --------
    >>> key = publishable_key(b"k", ["https://a.example"])
    >>> key.startswith("pk_"), publishable_key_origins(b"k", key)
    (True, ['https://a.example'])
    """
    payload = " ".join(sorted({normalise_origin(o) for o in origins if normalise_origin(o)}))
    body = _b64(payload.encode())
    return f"pk_{body}.{_mac(secret, 'pk:' + payload, 18)}"


def publishable_key_origins(secret: bytes, key: str | None) -> list[str] | None:
    """The origins a publishable key allows, or None when the key is malformed or forged.

    Examples
    --------
    >>> publishable_key_origins(b"k", "pk_bogus.sig") is None
    True
    """
    if not key or not key.startswith("pk_") or "." not in key:
        return None
    body, _, sig = key[3:].partition(".")
    try:
        payload = _unb64(body).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not _same(_mac(secret, "pk:" + payload, 18), sig):
        return None
    return payload.split()


def widget_signature(secret: bytes, profile_id: str, expires_at: int) -> str:
    """Signature of a widget URL for ``profile_id`` valid until ``expires_at`` (Unix seconds).

    Examples
    --------
    >>> len(widget_signature(b"k", "p1", 1700000000))
    24
    """
    return _mac(secret, f"url:{profile_id}:{expires_at}", 18)


def verify_widget_signature(secret: bytes, profile_id: str, expires_at: int, sig: str, now: float) -> bool:
    """True when ``sig`` signs ``profile_id`` until ``expires_at`` and that time has not passed.

    Examples
    --------
    >>> s = widget_signature(b"k", "p1", 100)
    >>> verify_widget_signature(b"k", "p1", 100, s, now=50)
    True
    >>> verify_widget_signature(b"k", "p1", 100, s, now=150)
    False
    """
    if expires_at < now:
        return False
    return _same(widget_signature(secret, profile_id, expires_at), sig)
