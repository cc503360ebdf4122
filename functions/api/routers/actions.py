"""What changes data: endorsements (+K), perks, opt-out."""

from __future__ import annotations

from fastapi import APIRouter, status

from functions.api import perks, service
from functions.api.deps import (
    CachesDep,
    CallerDep,
    NowDep,
    OwnerToken,
    ProfileId,
    SettingsDep,
    StoreDep,
    require_owner,
)
from functions.api.models import (
    Endorsement,
    EndorsementIn,
    OptInResult,
    OptOutResult,
    Perk,
    PerkIn,
    Perks,
    ProfileExport,
)
from functions.api.problems import KEYED, responses
from functions.api.selfservice_store import selfservice_of

router = APIRouter(prefix="/v1", responses=responses(*KEYED))


@router.post(
    "/profiles/{profile_id}/endorsements",
    response_model=Endorsement,
    status_code=status.HTTP_201_CREATED,
    tags=["endorsements"],
    responses=responses(
        "profile-not-found",
        "profile-merged",
        "missing-owner-token",
        "invalid-owner-token",
        "already-endorsed",
        "endorsement-limit",
    ),
)
def endorse(
    profile_id: ProfileId,
    body: EndorsementIn,
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    owner_token: OwnerToken = None,
) -> Endorsement:
    """Give +K in a topic, as the giver (owner token of ``giver_profile_id``).

    Examples
    --------
    >>> # POST /v1/profiles/p2/endorsements {"giver_profile_id": "p1", "topic": "python"} -> 201
    """
    require_owner(settings, body.giver_profile_id, owner_token, store, now)
    return service.endorse(store, profile_id, body, now)


@router.post(
    "/perks",
    response_model=Perk,
    status_code=status.HTTP_201_CREATED,
    tags=["perks"],
    responses=responses("brand-role-required", "perk-limit"),
)
def define_perk(body: PerkIn, store: StoreDep, caller: CallerDep, now: NowDep) -> Perk:
    """A brand defines a perk: minimum score, optional topic, expiry (API keys with the brand role;
    the perk belongs to the key's owner, at most 25 per owner).

    Examples
    --------
    >>> # POST /v1/perks {"brand": "Acme", "title": "Beta access", "min_score": 60, "expires_at": 1900000000}
    """
    return perks.create(selfservice_of(store), caller, body, now)


@router.get(
    "/profiles/{profile_id}/perks",
    response_model=Perks,
    tags=["perks"],
    responses=responses("profile-not-found", "profile-merged"),
)
def list_perks(profile_id: ProfileId, store: StoreDep, now: NowDep) -> Perks:
    """The live perks the person qualifies for.

    Examples
    --------
    >>> # GET /v1/profiles/p1/perks -> {"perks": [{"perk_id": "perk_...", "min_score": 60}]}
    """
    return service.perks_for(store, profile_id, now)


_OPT_OUT = {
    "response_model": OptOutResult,
    "tags": ["opt-out"],
    "responses": responses(
        "profile-not-found", "profile-merged", "missing-owner-token", "invalid-owner-token"
    ),
}


@router.post("/profiles/{profile_id}/opt-out", **_OPT_OUT)  # type: ignore[arg-type]
def opt_out(
    profile_id: ProfileId,
    store: StoreDep,
    settings: SettingsDep,
    caches: CachesDep,
    now: NowDep,
    owner_token: OwnerToken = None,
) -> OptOutResult:
    """Remove yourself: your data is erased and every endpoint answers 404 for you from now on.

    Examples
    --------
    >>> # POST /v1/profiles/p1/opt-out  (x-renown-owner-token: ot_...) -> {"erased_items": 42, ...}
    """
    require_owner(settings, profile_id, owner_token, store, now)
    return service.opt_out(store, caches, profile_id, now)


@router.delete("/profiles/{profile_id}", **_OPT_OUT)  # type: ignore[arg-type]
def delete_profile(
    profile_id: ProfileId,
    store: StoreDep,
    settings: SettingsDep,
    caches: CachesDep,
    now: NowDep,
    owner_token: OwnerToken = None,
) -> OptOutResult:
    """Same as ``POST /v1/profiles/{id}/opt-out``.

    Examples
    --------
    >>> # DELETE /v1/profiles/p1  (x-renown-owner-token: ot_...) -> {"erased_items": 42, ...}
    """
    require_owner(settings, profile_id, owner_token, store, now)
    return service.opt_out(store, caches, profile_id, now)


@router.get(
    "/profiles/{profile_id}/export",
    response_model=ProfileExport,
    tags=["opt-out"],
    responses=responses("profile-not-found", "missing-owner-token", "invalid-owner-token"),
)
def export_profile(
    profile_id: ProfileId,
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    owner_token: OwnerToken = None,
) -> ProfileExport:
    """Everything stored about you, as JSON (the right of access).

    Examples
    --------
    >>> # GET /v1/profiles/p1/export  (x-renown-owner-token: ot_...) -> {"profile": [...], ...}
    """
    require_owner(settings, profile_id, owner_token, store, now)
    return service.export(store, profile_id)


@router.post(
    "/profiles/{profile_id}/opt-in",
    response_model=OptInResult,
    tags=["opt-out"],
    responses=responses("missing-owner-token", "invalid-owner-token"),
)
def opt_in(
    profile_id: ProfileId,
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    owner_token: OwnerToken = None,
) -> OptInResult:
    """Opt back in after an opt-out: your accounts are counted again from their next engagement.

    Examples
    --------
    >>> # POST /v1/profiles/p1/opt-in  (x-renown-owner-token: ot_...) -> {"markers_removed": 2, ...}
    """
    require_owner(settings, profile_id, owner_token, store, now)
    return service.opt_in(store, profile_id)
