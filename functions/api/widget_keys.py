"""Publishable widget keys: stored records owned by the owner of an API key, limited to origins and
optionally to profiles, and metered on that API key's daily usage.

- A key is ``pk_wk_<24 hex>`` (public: it goes in pages); its record is ``WIDGETKEY#<key id> / META``
  (``WidgetKeyRecord``), listed per owner through GSI1 ``WIDGETKEYS#<owner>``.
- The owner is the ``owner`` of the API key that created it (``APIKEY#<sha256> / META``), or
  ``key:<hash prefix>`` for a key without one, or ``dev`` for the local dev key. Every API key of the
  same owner lists and revokes the same widget keys.
- A widget request with such a key is counted on the creating API key's ``USAGE#<day>`` counter (the one
  ``GET /v1/usage`` reads) and refused with 429 ``quota-exceeded`` past its quota; a revoked widget key
  or a revoked owning API key stops working within ``KEY_CACHE_S`` (the same in-process cache).
- Stateless keys of old (``pk_<origins>.<mac>``) keep working, read-only and unmetered, with
  ``Deprecation``/``Sunset`` headers, until ``settings.legacy_widget_keys_sunset``; then they are refused.
"""

from __future__ import annotations

import hmac
import secrets
from email.utils import formatdate

from functions.api import models as m
from functions.api.deps import KEY_CACHE_S, Caches, Caller, day_of
from functions.api.problems import Problem
from functions.api.security import hash_api_key, normalise_origin
from functions.api.store import ApiTable
from functions.shared.records import ApiKeyRecord, WidgetKeyRecord
from functions.shared.settings import Settings

PREFIX = "pk_wk_"
#: Live (not revoked) widget keys one owner may hold.
MAX_KEYS_PER_OWNER = 50
#: When the stateless keys were deprecated (the ``Deprecation`` header, RFC 9745).
LEGACY_DEPRECATED_AT = 1_795_996_800  # 2026-11-30T00:00:00Z

__all__ = ["KEY_CACHE_S", "authorize", "create", "is_stored_key", "legacy_headers", "list_keys", "revoke"]


def is_stored_key(key: str | None) -> bool:
    """Is ``key`` a stored widget key (rather than a stateless one of old)?

    Examples
    --------
    >>> is_stored_key("pk_wk_" + "0" * 24), is_stored_key("pk_aHR0cHM.abc"), is_stored_key(None)
    (True, False, False)
    """
    return bool(key) and str(key).startswith(PREFIX) and "." not in str(key)


def legacy_headers(settings: Settings, now: float) -> dict[str, str]:
    """Headers of an answer to a stateless key, or 403 ``invalid-widget-key`` once its sunset passed.

    Examples
    --------
    >>> sorted(legacy_headers(Settings(legacy_widget_keys_sunset=100), now=0))
    ['Deprecation', 'Link', 'Sunset']
    """
    sunset = settings.legacy_widget_keys_sunset
    if now >= sunset:
        raise Problem(
            "invalid-widget-key",
            "stateless publishable keys were retired: create a key with POST /v1/widget-keys",
        )
    return {
        "Deprecation": f"@{LEGACY_DEPRECATED_AT}",
        "Sunset": formatdate(sunset, usegmt=True),
        "Link": '<https://renown.dev/docs/api#widget-keys>; rel="deprecation"',
    }


def _owner_key(store: ApiTable, caches: Caches, key_hash: str, now: float) -> ApiKeyRecord | None:
    """The API key record of ``key_hash`` through the API-key cache (same entries as ``require_api_key``)."""
    found = caches.api_keys.get((key_hash,), now)
    if found is not None:
        record: ApiKeyRecord | None = found[0]
        return record
    record = store.get_api_key(key_hash)
    caches.api_keys.put((key_hash,), (record,), now)
    return record


def _is_dev(settings: Settings, key_hash: str) -> bool:
    dev = hash_api_key(settings.dev_api_key.get_secret_value())
    return hmac.compare_digest(dev.encode(), key_hash.encode())


def owner_of(store: ApiTable, caches: Caches, settings: Settings, caller: Caller, now: float) -> str:
    """The owner a caller's widget keys belong to.

    Examples
    --------
    >>> # owner_of(store, caches, settings, caller, now) -> "acme"
    """
    if _is_dev(settings, caller.key_hash):
        return "dev"
    record = _owner_key(store, caches, caller.key_hash, now)
    return (record.owner if record and record.owner else "") or f"key:{caller.key_hash[:16]}"


def _view(rec: WidgetKeyRecord) -> m.WidgetKey:
    return m.WidgetKey(
        key=PREFIX + rec.key_id,
        key_id=rec.key_id,
        owner=rec.owner,
        origins=rec.origins,
        profiles=rec.profiles,
        created_at=rec.created_at,
        revoked_at=rec.revoked_at,
    )


def create(
    store: ApiTable, caches: Caches, settings: Settings, caller: Caller, body: m.WidgetKeyIn, now: float
) -> m.WidgetKey:
    """Store a new widget key for the caller's owner (at most ``MAX_KEYS_PER_OWNER`` live ones).

    Examples
    --------
    >>> # create(store, caches, settings, caller, m.WidgetKeyIn(origins=["https://a.example"]), now)
    """
    origins = [normalise_origin(o) for o in body.origins]
    if not all(origins):
        raise Problem("validation-error", "origins must look like https://host[:port]")
    owner = owner_of(store, caches, settings, caller, now)
    live = [k for k in store.widget_keys_of(owner) if k.revoked_at is None]
    if len(live) >= MAX_KEYS_PER_OWNER:
        raise Problem(
            "validation-error", f"at most {MAX_KEYS_PER_OWNER} live widget keys per owner: revoke one first"
        )
    rec = WidgetKeyRecord(
        key_id=secrets.token_hex(12),
        owner=owner,
        owner_key_hash=caller.key_hash,
        origins=sorted(set(origins)),
        profiles=sorted(set(body.profiles)),
        created_at=int(now),
    )
    store.put_widget_key(rec)
    return _view(rec)


def list_keys(
    store: ApiTable, caches: Caches, settings: Settings, caller: Caller, now: float
) -> m.WidgetKeys:
    """The widget keys of the caller's owner, revoked ones included.

    Examples
    --------
    >>> # list_keys(store, caches, settings, caller, now).keys[0].key -> "pk_wk_..."
    """
    owner = owner_of(store, caches, settings, caller, now)
    return m.WidgetKeys(keys=[_view(k) for k in store.widget_keys_of(owner)])


def revoke(
    store: ApiTable, caches: Caches, settings: Settings, caller: Caller, key_id: str, now: float
) -> m.WidgetKey:
    """Revoke one of the caller's owner's widget keys (404 ``not-found`` for any other key).

    Examples
    --------
    >>> # revoke(store, caches, settings, caller, "0a1b...", now).revoked_at -> 1750000000
    """
    owner = owner_of(store, caches, settings, caller, now)
    rec = store.revoke_widget_key(key_id, owner, int(now))
    if rec is None:
        raise Problem("not-found", f"no widget key {key_id} of yours")
    caches.api_keys.put(("WIDGETKEY#" + key_id,), (rec,), now)
    return _view(rec)


def authorize(
    store: ApiTable, caches: Caches, settings: Settings, key: str, profile_id: str, page: str, now: float
) -> None:
    """Check a stored widget key for ``profile_id`` on ``page`` and count the request on its owning API
    key: 403 ``invalid-widget-key`` (unknown, revoked, another page or profile, owning key revoked), 429
    ``quota-exceeded`` past the owning key's daily quota.

    Examples
    --------
    >>> # authorize(store, caches, settings, "pk_wk_...", "p1", "https://blog.example", now)
    """
    key_id = key[len(PREFIX) :]
    cache_key = ("WIDGETKEY#" + key_id,)
    found = caches.api_keys.get(cache_key, now)
    if found is not None:
        rec: WidgetKeyRecord | None = found[0]
    else:
        rec = store.get_widget_key(key_id) if key_id.isalnum() and len(key_id) <= 64 else None
        caches.api_keys.put(cache_key, (rec,), now)
    if rec is None or rec.revoked_at is not None:
        raise Problem("invalid-widget-key", "this widget key does not exist or was revoked")
    if page not in rec.origins:
        raise Problem("invalid-widget-key", f"this key is not valid on {page or 'a page without an origin'}")
    if rec.profiles and profile_id not in rec.profiles:
        raise Problem("invalid-widget-key", f"this key is not valid for profile {profile_id}")
    quota = settings.daily_quota
    if not _is_dev(settings, rec.owner_key_hash):
        owner_key = _owner_key(store, caches, rec.owner_key_hash, now)
        if owner_key is None or owner_key.revoked:
            raise Problem("invalid-widget-key", "the API key that owns this widget key was revoked")
        quota = owner_key.daily_quota or quota
    count = store.meter(rec.owner_key_hash, day_of(now))
    if count > quota:
        tomorrow = (int(now) // 86_400 + 1) * 86_400
        raise Problem(
            "quota-exceeded",
            f"the owner of this widget key used {count - 1} of {quota} requests today (UTC)",
            headers={"Retry-After": str(max(1, tomorrow - int(now)))},
        )
