"""The admin API (``/admin/v1``): customers' API keys and the usage report they are billed on.

In AWS the route ``/admin/{proxy+}`` is IAM-authorised (``AWS_IAM`` in ``template.yaml``): API Gateway
checks the SigV4 signature and the caller's ``execute-api:Invoke`` permission before the function
runs, and the function sees the caller's ARN in the request context. On the local stack, where nothing
checks IAM, the admin credential ``x-renown-admin-key`` (``RENOWN_ADMIN_KEY``, empty in AWS: off) stands
for it. ``renown keys`` and ``renown usage report`` call this API.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status

from functions.api import key_admin, usage_report
from functions.api import selfservice_models as sm
from functions.api.deps import NowDep, SettingsDep, StoreDep
from functions.api.problems import Problem, responses
from functions.api.selfservice_store import selfservice_of
from functions.shared.settings import Settings

ADMIN = ("missing-admin-credential", "invalid-admin-credential", "validation-error")


def iam_caller(request: Request) -> str | None:
    """The IAM principal API Gateway authorised for this request (None off the IAM route)."""
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    if not str(event.get("resource", "")).startswith("/admin/"):
        return None
    identity = (event.get("requestContext") or {}).get("identity") or {}
    arn = identity.get("userArn") or identity.get("caller")
    return str(arn) if arn else None


def require_admin(
    request: Request,
    settings: SettingsDep,
    admin_key: Annotated[
        str | None, Header(alias="x-renown-admin-key", description="admin credential (local stack only)")
    ] = None,
) -> str:
    """The admin caller: an IAM principal (AWS) or the holder of the local admin credential."""
    principal = iam_caller(request)
    if principal:
        return principal
    expected = settings.admin_key.get_secret_value()
    if not admin_key:
        raise Problem(
            "missing-admin-credential", "sign the request with IAM (AWS) or send x-renown-admin-key"
        )
    if not expected or not hmac.compare_digest(admin_key.encode(), expected.encode()):
        raise Problem("invalid-admin-credential", "x-renown-admin-key is not the admin credential")
    return "admin-key"


router = APIRouter(
    prefix="/admin/v1", tags=["admin"], dependencies=[Depends(require_admin)], responses=responses(*ADMIN)
)


def admin_of(request: Request, store: StoreDep, settings: Settings) -> key_admin.KeyAdmin:
    gateway = getattr(request.app.state, "gateway", None)
    if gateway is None:
        gateway = request.app.state.gateway = key_admin.gateway_client()
    return key_admin.KeyAdmin(selfservice_of(store), gateway, key_admin.parse_plans(settings.usage_plans))


KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$", description="the key's id (12 hex digits)")]


def _created(rec: Any, key: str) -> sm.ApiKeyCreated:
    return sm.ApiKeyCreated(api_key=key, **key_admin.info(rec).model_dump())


@router.post(
    "/keys",
    response_model=sm.ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=responses("unknown-plan", "plan-unavailable"),
)
def create_key(
    body: sm.ApiKeyIn, request: Request, store: StoreDep, settings: SettingsDep, now: NowDep
) -> sm.ApiKeyCreated:
    """Create a key for ``owner`` in usage plan ``plan``: the key is in the answer, this once.

    Examples
    --------
    >>> # POST /admin/v1/keys {"owner": "acme", "plan": "pro", "mode": "live"} -> {"api_key": "rk_live_..."}
    """
    rec, key = admin_of(request, store, settings).create(body, now)
    return _created(rec, key)


@router.get("/keys", response_model=sm.ApiKeyList)
def list_keys(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    owner: Annotated[str | None, Query(pattern=sm.OWNER_PATTERN)] = None,
) -> sm.ApiKeyList:
    """Registered keys (of one owner, or all), without their secrets.

    Examples
    --------
    >>> # GET /admin/v1/keys?owner=acme -> {"owner": "acme", "keys": [{"key_id": "ab12...", ...}]}
    """
    recs = admin_of(request, store, settings).list(owner)
    return sm.ApiKeyList(owner=owner, keys=[key_admin.info(r) for r in recs])


@router.delete(
    "/keys/{key_id}",
    response_model=sm.ApiKeyInfo,
    responses=responses("api-key-not-found", "api-key-revoked"),
)
def revoke_key(
    key_id: KeyId, request: Request, store: StoreDep, settings: SettingsDep, now: NowDep
) -> sm.ApiKeyInfo:
    """Revoke a key: refused by the API within 30 s, disabled in API Gateway.

    Examples
    --------
    >>> # DELETE /admin/v1/keys/ab12cd34ef56 -> {"revoked": true, ...}
    """
    return key_admin.info(admin_of(request, store, settings).revoke(key_id, now))


@router.post(
    "/keys/{key_id}/rotate",
    response_model=sm.ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=responses("api-key-not-found", "api-key-revoked", "unknown-plan", "plan-unavailable"),
)
def rotate_key(
    key_id: KeyId, request: Request, store: StoreDep, settings: SettingsDep, now: NowDep
) -> sm.ApiKeyCreated:
    """Replace a key: a new one like it (shown once), the old one revoked.

    Examples
    --------
    >>> # POST /admin/v1/keys/ab12cd34ef56/rotate -> {"api_key": "rk_live_...", ...}
    """
    rec, key = admin_of(request, store, settings).rotate(key_id, now)
    return _created(rec, key)


@router.get("/usage-report", response_model=sm.UsageReport, responses={200: {"content": {"text/csv": {}}}})
def get_usage_report(
    store: StoreDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """Requests per owner (and route group) in a month, from the counters the quota reads: JSON or CSV.

    Examples
    --------
    >>> # GET /admin/v1/usage-report?month=2025-06&format=csv -> owner,billable,plan,keys,requests,...
    """
    report = usage_report.monthly(selfservice_of(store), month)
    if format == "csv":
        return Response(usage_report.to_csv(report), media_type="text/csv")
    return report
