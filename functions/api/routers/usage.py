"""The caller's metered usage, and signed widget URLs (widget keys: ``routers.widget_keys``)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from functions.api import service, usage_report
from functions.api.deps import CallerDep, NowDep, ProfileId, SettingsDep, StoreDep
from functions.api.models import SignedWidgetUrls, Usage, UsageDay
from functions.api.problems import KEYED, Problem, responses
from functions.api.security import widget_signature
from functions.api.selfservice_store import selfservice_of

router = APIRouter(prefix="/v1", responses=responses(*KEYED))


@router.get("/usage", response_model=Usage, tags=["usage"])
def get_usage(
    caller: CallerDep,
    store: StoreDep,
    now: NowDep,
    days: Annotated[int, Query(ge=1, le=90)] = 30,
    first_day: Annotated[date | None, Query(alias="from", description="YYYY-MM-DD (UTC), inclusive")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="YYYY-MM-DD (UTC), inclusive")] = None,
) -> Usage:
    """Requests of the calling key per day and route group (this request included): the last ``days``
    days, or ``from``..``to`` (at most 366 days), from the counters the quota reads.

    Examples
    --------
    >>> # GET /v1/usage?from=2025-06-01&to=2025-06-30 -> {"total": 1234, "groups": {"profiles": 1200}, ...}
    """
    to = last_day or datetime.fromtimestamp(now, UTC).date()
    start = first_day or to - timedelta(days=days - 1)
    if start > to or (to - start).days > 365:
        raise Problem("validation-error", "from must not be after to, and at most 366 days apart")
    found, groups = usage_report.key_range(selfservice_of(store), caller.key_hash, str(start), str(to))
    return Usage(
        key_id=caller.key_hash[:12],
        daily_quota=caller.daily_quota,
        days=[UsageDay(day=d.day, requests=d.requests, groups=d.groups) for d in found],
        owner=caller.owner or None,
        plan=caller.plan,
        first_day=str(start),
        last_day=str(to),
        total=sum(d.requests for d in found),
        groups=groups,
    )


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
