"""Identity lookup: a network handle or account id -> the Renown profile id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from functions.api import service
from functions.api.deps import StoreDep
from functions.api.models import Identity
from functions.api.problems import KEYED, responses
from functions.shared.settings import Network

router = APIRouter(prefix="/v1/identity", tags=["identity"], responses=responses(*KEYED, "account-not-found"))

Handle = Annotated[str, Path(min_length=1, max_length=100)]


@router.get("/{network}/id/{account_id}", response_model=Identity)
def by_account_id(network: Network, account_id: Handle, store: StoreDep) -> Identity:
    """Profile linked to a network account id.

    Examples
    --------
    >>> # GET /v1/identity/twitter/id/12345 -> {"profile_id": "p1", ...}
    """
    return service.identity(store, network, account_id=account_id)


@router.get("/{network}/{handle}", response_model=Identity)
def by_handle(network: Network, handle: Handle, store: StoreDep) -> Identity:
    """Profile linked to a network handle (case-insensitive, without ``@``).

    Examples
    --------
    >>> # GET /v1/identity/twitter/ada -> {"profile_id": "p1", ...}
    """
    return service.identity(store, network, handle=handle.lstrip("@"))
