"""Brands manage their perks (list, change, delete, see who qualifies and who claimed); people claim
them with their owner token. Publishing a perk is ``POST /v1/perks`` (``routers.actions``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from functions.api import models as m
from functions.api import perks
from functions.api import selfservice_models as sm
from functions.api.deps import CallerDep, NowDep, OwnerToken, ProfileId, SettingsDep, StoreDep, require_owner
from functions.api.problems import KEYED, responses
from functions.api.routers.ownership import OWNER_PROBLEMS
from functions.api.selfservice_store import selfservice_of

router = APIRouter(prefix="/v1", tags=["perks"], responses=responses(*KEYED))
BRAND = responses("brand-role-required", "perk-not-found")
PerkId = Annotated[str, Path(pattern=r"^perk_[0-9a-f]{16}$", description="the perk's id")]


class OwnPerks(m.ApiModel):
    owner: str
    perks: list[m.Perk]


@router.get("/perks", response_model=OwnPerks, responses=responses("brand-role-required"))
def list_own_perks(store: StoreDep, caller: CallerDep) -> OwnPerks:
    """The perks of the calling key's owner (brand keys).

    Examples
    --------
    >>> # GET /v1/perks -> {"owner": "acme", "perks": [{"perk_id": "perk_...", ...}]}
    """
    owner = perks.require_brand(caller)
    found = selfservice_of(store).perks_of(owner)
    return OwnPerks(owner=owner, perks=[m.Perk.model_validate(p.model_dump()) for p in found])


@router.patch("/perks/{perk_id}", response_model=m.Perk, responses=BRAND)
def change_perk(
    perk_id: PerkId, body: sm.PerkPatch, store: StoreDep, caller: CallerDep, now: NowDep
) -> m.Perk:
    """Change your perk: title, description, minimum score, topic, expiry.

    Examples
    --------
    >>> # PATCH /v1/perks/perk_0123456789abcdef {"min_score": 70} -> {"min_score": 70.0, ...}
    """
    return perks.update(selfservice_of(store), caller, perk_id, body, now)


@router.delete("/perks/{perk_id}", response_model=m.Perk, responses=BRAND)
def delete_perk(perk_id: PerkId, store: StoreDep, caller: CallerDep) -> m.Perk:
    """Delete your perk (and its claims); answers the perk as it was.

    Examples
    --------
    >>> # DELETE /v1/perks/perk_0123456789abcdef -> {"perk_id": "perk_0123456789abcdef", ...}
    """
    return perks.delete(selfservice_of(store), caller, perk_id)


@router.get("/perks/{perk_id}/qualifying", response_model=sm.Qualifying, responses=BRAND)
def qualifying(perk_id: PerkId, store: StoreDep, caller: CallerDep) -> sm.Qualifying:
    """How many profiles qualify for your perk now.

    Examples
    --------
    >>> # GET /v1/perks/perk_0123456789abcdef/qualifying -> {"profiles": 1234, "exact": true, ...}
    """
    return perks.qualifying(selfservice_of(store), caller, perk_id)


@router.get("/perks/{perk_id}/claims", response_model=sm.PerkClaims, responses=BRAND)
def list_claims(perk_id: PerkId, store: StoreDep, caller: CallerDep) -> sm.PerkClaims:
    """Who claimed your perk, when, on which score.

    Examples
    --------
    >>> # GET /v1/perks/perk_0123456789abcdef/claims -> {"claims": [{"profile_id": "p1", ...}]}
    """
    return perks.claims(selfservice_of(store), caller, perk_id)


@router.post(
    "/profiles/{profile_id}/perks/{perk_id}/claim",
    response_model=sm.PerkClaim,
    status_code=status.HTTP_201_CREATED,
    responses=responses(
        *OWNER_PROBLEMS,
        "perk-not-found",
        "perk-expired",
        "perk-not-eligible",
        "perk-already-claimed",
        "profile-not-found",
        "profile-merged",
    ),
)
def claim_perk(
    profile_id: ProfileId,
    perk_id: PerkId,
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    owner_token: OwnerToken = None,
) -> sm.PerkClaim:
    """Claim a perk you qualify for, once (owner token of the profile).

    Examples
    --------
    >>> # POST /v1/profiles/p1/perks/perk_0123456789abcdef/claim (x-renown-owner-token: ot_...) -> 201
    """
    require_owner(settings, profile_id, owner_token, store, now)
    return perks.claim(selfservice_of(store), profile_id, perk_id, now)
