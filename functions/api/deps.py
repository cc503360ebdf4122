"""``Annotated`` dependencies of the routers: settings, store, clock, the caller's API key, and the
API's own caches (purged on opt-out)."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request, Security
from fastapi.security import APIKeyHeader

from functions.api import owner_tokens
from functions.api.problems import Problem
from functions.api.security import hash_api_key
from functions.api.selfservice_store import selfservice_of
from functions.api.store import ApiTable
from functions.shared.settings import Settings

#: How long a container trusts a looked-up API key (a revocation takes effect within this time).
KEY_CACHE_S = 30.0


@dataclass
class TtlCache:
    """A small in-process cache with a time to live; opt-out purges a profile's entries.

    Examples
    --------
    >>> c = TtlCache(ttl_s=60)
    >>> c.put(("p1", "badge"), b"x", now=0.0); c.get(("p1", "badge"), now=1.0)
    b'x'
    >>> c.purge_profile("p1"); c.get(("p1", "badge"), now=1.0) is None
    True
    """

    ttl_s: float = 60.0
    max_items: int = 2048
    _items: dict[tuple[str, ...], tuple[float, Any]] = field(default_factory=dict)

    def get(self, key: tuple[str, ...], now: float) -> Any:
        hit = self._items.get(key)
        if hit is None or now - hit[0] > self.ttl_s:
            return None
        return hit[1]

    def put(self, key: tuple[str, ...], value: Any, now: float) -> None:
        if len(self._items) >= self.max_items:
            self._items.clear()
        self._items[key] = (now, value)

    def purge_profile(self, profile_id: str) -> None:
        for key in [k for k in self._items if k and k[0] == profile_id]:
            del self._items[key]

    def clear(self) -> None:
        self._items.clear()


@dataclass
class Caches:
    """Every cache of the API process (all keyed by profile id first)."""

    widgets: TtlCache = field(default_factory=lambda: TtlCache(ttl_s=60.0))
    # API keys: bounded, and a revoked key stops working within KEY_CACHE_S in every container
    api_keys: TtlCache = field(default_factory=lambda: TtlCache(ttl_s=KEY_CACHE_S, max_items=4096))

    def purge_profile(self, profile_id: str) -> None:
        self.widgets.purge_profile(profile_id)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of a keyed route."""

    key_hash: str
    daily_quota: int
    requests_today: int
    owner: str = ""
    roles: tuple[str, ...] = ()
    plan: str | None = None

    @property
    def owner_or_key(self) -> str:
        """Whom the key's perks and usage belong to: its owner, else the key itself."""
        return self.owner or f"key:{self.key_hash[:12]}"


#: the development key (local stack only) belongs to this owner and may publish perks
DEV_OWNER = "dev"
DEV_ROLES = ("brand",)


def route_group(request: Request) -> str:
    """The route group a request is metered under: the first OpenAPI tag of its route.

    Examples
    --------
    >>> # GET /v1/profiles/p1/score -> 'profiles'; GET /v1/identity/twitter/ada -> 'identity'
    """
    route = request.scope.get("route")
    tags = getattr(route, "tags", None) or ["other"]
    return str(tags[0])


def now_s() -> float:
    """Current Unix time (a dependency so tests can move the clock)."""
    return time.time()


def day_of(ts: float) -> str:
    """``YYYY-MM-DD`` (UTC) of a Unix time.

    Examples
    --------
    >>> day_of(0)
    '1970-01-01'
    """
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def get_store(request: Request) -> ApiTable:
    store: ApiTable = request.app.state.store
    return store


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_caches(request: Request) -> Caches:
    caches: Caches = request.app.state.caches
    return caches


def get_clock(request: Request) -> float:
    clock = request.app.state.clock
    return float(clock())


StoreDep = Annotated[ApiTable, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CachesDep = Annotated[Caches, Depends(get_caches)]
NowDep = Annotated[float, Depends(get_clock)]

api_key_header = APIKeyHeader(
    name="x-api-key", auto_error=False, description="Your API key (pay per request, metered per day)"
)


def require_api_key(
    request: Request,
    api_key: Annotated[str | None, Security(api_key_header)],
    store: StoreDep,
    settings: SettingsDep,
    caches: CachesDep,
    now: NowDep,
) -> Caller:
    """Check ``x-api-key`` (the dev key or a stored ``APIKEY#<sha256>``), count the request for the day
    and refuse it past the key's daily quota.

    Examples
    --------
    >>> # in a router: ``def route(caller: CallerDep): ...``
    """
    if not api_key:
        raise Problem("missing-api-key", "send your key in the x-api-key header")
    key_hash = hash_api_key(api_key)
    quota = settings.daily_quota
    owner, roles, plan = DEV_OWNER, DEV_ROLES, None
    if not hmac.compare_digest(api_key.encode(), settings.dev_api_key.get_secret_value().encode()):
        found = caches.api_keys.get((key_hash,), now)
        if found is not None:
            record = found[0]
        else:
            record = store.get_api_key(key_hash)
            caches.api_keys.put((key_hash,), (record,), now)
        if record is None or record.revoked:
            raise Problem("invalid-api-key")
        quota = record.daily_quota or quota
        owner, roles, plan = record.owner, tuple(record.roles), record.plan
    count = store.meter(key_hash, day_of(now), route_group(request))
    if count > quota:
        tomorrow = (int(now) // 86_400 + 1) * 86_400
        raise Problem(
            "quota-exceeded",
            f"{count - 1} of {quota} requests used today (UTC)",
            headers={"Retry-After": str(max(1, tomorrow - int(now)))},
        )
    return Caller(
        key_hash=key_hash,
        daily_quota=quota,
        requests_today=count,
        owner=owner,
        roles=roles,
        plan=plan,
    )


CallerDep = Annotated[Caller, Depends(require_api_key)]


PROFILE_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
ProfileId = Annotated[str, Path(pattern=PROFILE_ID_PATTERN, description="Renown profile id")]
OwnerToken = Annotated[
    str | None,
    Header(alias="x-renown-owner-token", description="owner token of the profile (see docs/api.md)"),
]


def owner_token_problem(
    settings: Settings, store: ApiTable, profile_id: str, token: str | None, now: float
) -> Problem | None:
    """Why ``token`` is not a live owner token of ``profile_id`` (None when it is one): missing (401),
    malformed or of another profile (403), expired or revoked (401).

    Examples
    --------
    >>> # owner_token_problem(settings, store, "p1", None, now).slug -> 'missing-owner-token'
    """
    if not token:
        return Problem("missing-owner-token", f"send the owner token of {profile_id} in x-renown-owner-token")
    parts = owner_tokens.parse(token)
    secret = settings.widget_signing_key.get_secret_value().encode()
    if parts is None or not owner_tokens.signed_for(secret, profile_id, parts):
        return Problem("invalid-owner-token", f"this is not an owner token of {profile_id}")
    if parts.expires_at <= now:
        return Problem(
            "owner-token-expired",
            f"owner token {parts.token_id} expired at {parts.expires_at}: prove the account again",
        )
    if selfservice_of(store).token_revoked(profile_id, parts.token_id, parts.issued_at):
        return Problem("owner-token-revoked", f"owner token {parts.token_id} was revoked")
    return None


def require_owner(
    settings: Settings, profile_id: str, token: str | None, store: ApiTable, now: float
) -> owner_tokens.OwnerToken:
    """Check that ``token`` is a live owner token of ``profile_id`` (see :func:`owner_token_problem`);
    returns its parts.

    Examples
    --------
    >>> # in a route: ``require_owner(settings, profile_id, owner_token, store, now)``
    """
    problem = owner_token_problem(settings, store, profile_id, token, now)
    if problem is not None:
        raise problem
    parts = owner_tokens.parse(token)
    assert parts is not None
    return parts
