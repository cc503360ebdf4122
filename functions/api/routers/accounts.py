"""Account linking: connect a network account to a profile, or disconnect it (it goes back to its own
profile). Both are one DynamoDB transaction; scores follow at the next scoring pass."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from functions.api import service
from functions.api.deps import CachesDep, NowDep, OwnerToken, ProfileId, SettingsDep, StoreDep, require_owner
from functions.api.models import AccountLinkResult, ConnectAccountIn
from functions.api.problems import KEYED, responses
from functions.shared.settings import Network

router = APIRouter(
    prefix="/v1/profiles",
    tags=["accounts"],
    responses=responses(
        *KEYED,
        "missing-owner-token",
        "invalid-owner-token",
        "profile-not-found",
        "account-not-found",
        "link-conflict",
    ),
)

AccountId = Annotated[str, Path(min_length=1, max_length=100, description="the network's account id")]


@router.post(
    "/{profile_id}/accounts",
    response_model=AccountLinkResult,
    responses=responses("profile-merged", "invalid-account-proof"),
)
def connect(
    profile_id: ProfileId,
    body: ConnectAccountIn,
    store: StoreDep,
    settings: SettingsDep,
    caches: CachesDep,
    now: NowDep,
    owner_token: OwnerToken = None,
) -> AccountLinkResult:
    """Connect a network account to this profile, proving ownership of both: the profile's owner
    token in ``x-renown-owner-token`` and, in ``proof.account_owner_token``, the owner token of the
    profile the account is linked to now (in production: the network's OAuth). A profile left without
    accounts is merged into this one (308 ``profile-merged`` from then on).

    Examples
    --------
    >>> # POST /v1/profiles/p1/accounts {"network": "twitter", "account_id": "1002",
    >>> #   "proof": {"account_owner_token": "ot_..."}}  (x-renown-owner-token: ot_...)
    >>> # -> {"action": "connected", "to_profile_id": "p1", "effective": "next scoring pass", ...}
    """
    require_owner(settings, profile_id, owner_token, store, now)
    return service.connect_account(store, caches, profile_id, body, settings, now)


@router.delete(
    "/{profile_id}/accounts/{network}/{account_id}",
    response_model=AccountLinkResult,
    responses=responses("home-account"),
)
def disconnect(
    profile_id: ProfileId,
    network: Network,
    account_id: AccountId,
    store: StoreDep,
    settings: SettingsDep,
    caches: CachesDep,
    now: NowDep,
    owner_token: OwnerToken = None,
) -> AccountLinkResult:
    """Disconnect an account from this profile (owner token of the profile): it goes back to its own
    profile, the one ingest made for it on first sight (re-created or un-merged as needed).

    Examples
    --------
    >>> # DELETE /v1/profiles/p1/accounts/mastodon/m1  (x-renown-owner-token: ot_...)
    >>> # -> {"action": "disconnected", "to_profile_id": "p...", "effective": "next scoring pass", ...}
    """
    require_owner(settings, profile_id, owner_token, store, now)
    return service.disconnect_account(store, caches, profile_id, network, account_id, now)
