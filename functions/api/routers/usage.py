"""The caller's metered usage, and signed widget URLs (widget keys: ``routers.widget_keys``)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request

from functions.api import service
from functions.api.deps import CallerDep, NowDep, ProfileId, SettingsDep, StoreDep
from functions.api.models import SignedWidgetUrls, Usage
from functions.api.problems import KEYED, responses
from functions.api.security import widget_signature

router = APIRouter(prefix="/v1", responses=responses(*KEYED))


@router.get("/usage", response_model=Usage, tags=["usage"])
def get_usage(
    caller: CallerDep,
    store: StoreDep,
    now: NowDep,
    days: Annotated[int, Query(ge=1, le=90)] = 30,
) -> Usage:
    """Requests per day of the calling key (this request included).

    Examples
    --------
    >>> # GET /v1/usage?days=7 -> {"key_id": "ab12...", "daily_quota": 10000, "days": [...]}
    """
    return service.usage(store, caller.key_hash, caller.daily_quota, days, now)


@router.post(
    "/profiles/{profile_id}/widget-urls",
    response_model=SignedWidgetUrls,
    tags=["widgets"],
    responses=responses("profile-not-found"),
)
def create_signed_urls(
    profile_id: ProfileId,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    ttl_days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> SignedWidgetUrls:
    """Signed badge and card URLs for places that send no Origin or Referer (README, e-mail).

    Examples
    --------
    >>> # POST /v1/profiles/p1/widget-urls?ttl_days=30 -> {"badge": ".../badge.svg?exp=...&sig=..."}
    """
    service.score_record(store, profile_id)
    expires_at = int(now or time.time()) + ttl_days * 86_400
    sig = widget_signature(settings.widget_signing_key.get_secret_value().encode(), profile_id, expires_at)
    base = str(request.base_url).rstrip("/")
    query = f"exp={expires_at}&sig={sig}"
    return SignedWidgetUrls(
        profile_id=profile_id,
        expires_at=expires_at,
        badge=f"{base}/v1/widgets/{profile_id}/badge.svg?{query}",
        card=f"{base}/v1/widgets/{profile_id}/card?{query}",
    )
