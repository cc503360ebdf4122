"""Request and response models of self-service: API keys (admin), usage, ownership proofs, owner
tokens, perks and their claims."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from functions.api.models import ApiModel
from functions.shared.settings import Network

OWNER_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
Role = Literal["brand"]


# --- API keys (admin) ------------------------------------------------------------------------------
class ApiKeyIn(ApiModel):
    """A key to create for ``owner`` in the usage plan ``plan``."""

    owner: str = Field(pattern=OWNER_PATTERN, description="who the key belongs to (lower case)")
    plan: str = Field(min_length=1, max_length=32, description="usage plan: free, pro")
    mode: Literal["test", "live"] = Field(
        default="live", description="test keys (rk_test_) are metered like live keys but never billed"
    )
    roles: list[Role] = Field(default_factory=list, max_length=4, description="brand: may publish perks")


class ApiKeyInfo(ApiModel):
    """A registered key as the admin API lists it (never the key itself)."""

    key_id: str = Field(description="first 12 hex digits of the key's SHA-256")
    prefix: str = Field(description="the key's first characters, to recognise it")
    owner: str
    plan: str | None
    mode: Literal["test", "live"]
    roles: list[str]
    daily_quota: int | None
    created_at: int
    revoked: bool
    revoked_at: int | None = None
    replaced_by: str | None = None
    gateway_key_id: str | None = None


class ApiKeyCreated(ApiKeyInfo):
    """A key just created: ``api_key`` is shown this once and stored only hashed."""

    api_key: str = Field(description="the secret key: shown once, store it now")


class ApiKeyList(ApiModel):
    owner: str | None
    keys: list[ApiKeyInfo]


# --- usage -----------------------------------------------------------------------------------------
class UsageGroupDay(ApiModel):
    day: str = Field(description="YYYY-MM-DD (UTC)")
    requests: int
    groups: dict[str, int] = Field(description="requests per route group (the route's tag)")


class OwnerUsage(ApiModel):
    owner: str
    billable: bool = Field(description="false for test keys")
    plan: str | None
    keys: list[str] = Field(description="key ids")
    requests: int
    groups: dict[str, int]


class UsageReport(ApiModel):
    month: str
    first_day: str
    last_day: str
    owners: list[OwnerUsage]


# --- ownership proofs and owner tokens ---------------------------------------------------------------
class ChallengeIn(ApiModel):
    """Which account the person says is theirs; ``link_to_profile_id`` (with that profile's owner token)
    links it to a profile they already own, once proven."""

    network: Network
    account_id: str | None = Field(default=None, min_length=1, max_length=100)
    handle: str | None = Field(default=None, min_length=1, max_length=100)
    link_to_profile_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class Challenge(ApiModel):
    challenge_id: str
    network: str
    account_id: str
    code: str = Field(description="post this, as written, from the account (a post, reply or mention)")
    secret: str = Field(description="exchange it for the owner token once the code is seen: shown once")
    code_expires_at: int
    expires_at: int
    instructions: str


class TokenExchangeIn(ApiModel):
    secret: str = Field(min_length=16, max_length=100)
    ttl_days: int = Field(default=30, ge=1, le=90, description="how long the owner token lives (days)")


class ChallengeStatus(ApiModel):
    """``pending`` (202: not seen yet, ask again) or ``issued`` (200: here is the owner token, once)."""

    challenge_id: str
    status: Literal["pending", "issued"]
    profile_id: str | None = None
    owner_token: str | None = None
    token_id: str | None = None
    token_expires_at: int | None = None
    linked: bool = False


class TokenRevoked(ApiModel):
    profile_id: str
    revoked: str = Field(description="a token id, or `all` (every token issued up to now)")
    at: int


# --- perks (brands) ------------------------------------------------------------------------------------
def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


class PerkPatch(ApiModel):
    """What a brand may change of its perk (omitted fields stay)."""

    title: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    min_score: Annotated[float | None, AfterValidator(_round)] = Field(default=None, ge=0, le=100)
    topic: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    expires_at: int | None = None


class Qualifying(ApiModel):
    perk_id: str
    algorithm_version: str | None
    profiles: int = Field(description="profiles that qualify now")
    exact: bool = Field(description="false when counted from the score histogram (bins of its width)")
    method: str


class PerkClaim(ApiModel):
    perk_id: str
    profile_id: str
    claimed_at: int
    score: float


class PerkClaims(ApiModel):
    perk_id: str
    claims: list[PerkClaim]
