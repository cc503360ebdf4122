"""Ownership: prove an account is yours by posting a one-time code, get an owner token, revoke tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from functions.api import owner_tokens, ownership
from functions.api import selfservice_models as sm
from functions.api.deps import CachesDep, NowDep, OwnerToken, ProfileId, SettingsDep, StoreDep, require_owner
from functions.api.problems import KEYED, responses
from functions.api.selfservice_store import selfservice_of

router = APIRouter(prefix="/v1", tags=["ownership"], responses=responses(*KEYED))

OWNER_PROBLEMS = ("missing-owner-token", "invalid-owner-token", "owner-token-expired", "owner-token-revoked")
ChallengeId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$", description="the challenge's id")]
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="the owner token's id")]


@router.post(
    "/ownership/challenges",
    response_model=sm.Challenge,
    status_code=status.HTTP_201_CREATED,
    responses=responses("account-not-found", "profile-not-found", "profile-merged", *OWNER_PROBLEMS),
)
def create_challenge(
    body: sm.ChallengeIn, store: StoreDep, settings: SettingsDep, now: NowDep, owner_token: OwnerToken = None
) -> sm.Challenge:
    """Ask for a one-time code to post from your account. With ``link_to_profile_id`` (and that
    profile's owner token) the account is linked to that profile once the code is seen.

    Examples
    --------
    >>> # POST /v1/ownership/challenges {"network": "twitter", "handle": "ada"}
    >>> # -> 201 {"challenge_id": "...", "code": "#renownk3m9x2q7ab", "secret": "...", ...}
    """
    return ownership.create_challenge(store, settings, body, owner_token, now)


@router.post(
    "/ownership/challenges/{challenge_id}/token",
    response_model=sm.ChallengeStatus,
    responses={
        202: {"description": "the code has not been seen yet: ask again", "model": sm.ChallengeStatus},
        **responses(
            "challenge-not-found",
            "invalid-challenge-secret",
            "challenge-expired",
            "code-posted-from-other-account",
            "challenge-redeemed",
            "account-not-found",
            "link-conflict",
        ),
    },
)
def exchange_token(
    challenge_id: ChallengeId,
    body: sm.TokenExchangeIn,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    caches: CachesDep,
    now: NowDep,
) -> sm.ChallengeStatus:
    """Exchange the challenge's secret for the owner token once the code was posted: 202 until then,
    200 with the token (once).

    Examples
    --------
    >>> # POST /v1/ownership/challenges/0f3c.../token {"secret": "..."} -> 200 {"owner_token": "ot_..."}
    """
    code, out = ownership.exchange(store, caches, settings, challenge_id, body, now)
    response.status_code = code
    if code == status.HTTP_202_ACCEPTED:
        response.headers["Retry-After"] = "10"
    return out


@router.delete(
    "/profiles/{profile_id}/owner-tokens/{token_id}",
    response_model=sm.TokenRevoked,
    responses=responses(*OWNER_PROBLEMS),
)
def revoke_token(
    profile_id: ProfileId,
    token_id: TokenId,
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    owner_token: OwnerToken = None,
) -> sm.TokenRevoked:
    """Revoke one owner token of your profile (this one or another, by its id).

    Examples
    --------
    >>> # DELETE /v1/profiles/p1/owner-tokens/9a0b1c2d3e4f5a6b  (x-renown-owner-token: ot_...)
    """
    require_owner(settings, profile_id, owner_token, store, now)
    until = int(now) + (owner_tokens.MAX_TTL_DAYS + 1) * owner_tokens.DAY_S  # outlives any token issued
    selfservice_of(store).revoke_token(profile_id, token_id, until, int(now))
    return sm.TokenRevoked(profile_id=profile_id, revoked=token_id, at=int(now))


@router.post(
    "/profiles/{profile_id}/owner-tokens/revoke-all",
    response_model=sm.TokenRevoked,
    responses=responses(*OWNER_PROBLEMS),
)
def revoke_all_tokens(
    profile_id: ProfileId, store: StoreDep, settings: SettingsDep, now: NowDep, owner_token: OwnerToken = None
) -> sm.TokenRevoked:
    """Revoke every owner token of your profile issued up to now (this one included).

    Examples
    --------
    >>> # POST /v1/profiles/p1/owner-tokens/revoke-all  (x-renown-owner-token: ot_...)
    """
    require_owner(settings, profile_id, owner_token, store, now)
    selfservice_of(store).revoke_all_tokens(profile_id, int(now))
    return sm.TokenRevoked(profile_id=profile_id, revoked="all", at=int(now))
