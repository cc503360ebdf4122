"""Publishable widget keys of the caller's owner: create, list, revoke (see ``functions.api.widget_keys``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from functions.api import widget_keys
from functions.api.deps import CachesDep, CallerDep, NowDep, SettingsDep, StoreDep
from functions.api.models import WidgetKey, WidgetKeyIn, WidgetKeys
from functions.api.problems import KEYED, responses

router = APIRouter(prefix="/v1/widget-keys", tags=["widgets"], responses=responses(*KEYED))

KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$", description="`key_id` of a widget key")]


@router.post("", response_model=WidgetKey, status_code=status.HTTP_201_CREATED)
def create_widget_key(
    body: WidgetKeyIn,
    caller: CallerDep,
    store: StoreDep,
    settings: SettingsDep,
    caches: CachesDep,
    now: NowDep,
) -> WidgetKey:
    """A publishable key (``pk_wk_...``) for pages of ``origins``, optionally for ``profiles`` only; the
    widget requests it serves count on your API key's daily usage.

    Examples
    --------
    >>> # POST /v1/widget-keys {"origins": ["https://blog.example"], "profiles": ["p1"]}
    >>> # -> {"key": "pk_wk_...", ...}
    """
    return widget_keys.create(store, caches, settings, caller, body, now)


@router.get("", response_model=WidgetKeys)
def list_widget_keys(
    caller: CallerDep, store: StoreDep, settings: SettingsDep, caches: CachesDep, now: NowDep
) -> WidgetKeys:
    """Your widget keys (every API key of the same owner sees the same ones), revoked ones included.

    Examples
    --------
    >>> # GET /v1/widget-keys -> {"keys": [{"key": "pk_wk_...", "revoked_at": null, ...}]}
    """
    return widget_keys.list_keys(store, caches, settings, caller, now)


@router.delete("/{key_id}", response_model=WidgetKey, responses=responses("not-found"))
def revoke_widget_key(
    key_id: KeyId, caller: CallerDep, store: StoreDep, settings: SettingsDep, caches: CachesDep, now: NowDep
) -> WidgetKey:
    """Revoke one of your widget keys: pages using it get 403 within 30 seconds.

    Examples
    --------
    >>> # DELETE /v1/widget-keys/0a1b2c... -> {"revoked_at": 1750000000, ...}
    """
    return widget_keys.revoke(store, caches, settings, caller, key_id, now)
