"""Across profiles: compare, search, topic leaders."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query

from functions.api import service
from functions.api.deps import PROFILE_ID_PATTERN, StoreDep
from functions.api.models import Compare, Leaders, SearchResult
from functions.api.problems import KEYED, Problem, responses

router = APIRouter(prefix="/v1", tags=["discovery"], responses=responses(*KEYED))

Limit = Annotated[int, Query(ge=1, le=50)]


@router.get("/compare", response_model=Compare, responses=responses("profile-not-found"))
def compare(
    store: StoreDep,
    ids: Annotated[
        str, Query(min_length=1, max_length=700, description="2 to 10 comma-separated profile ids")
    ],
) -> Compare:
    """Scores of several profiles side by side.

    Examples
    --------
    >>> # GET /v1/compare?ids=p1,p2 -> {"scores": [{"profile_id": "p1", ...}, ...]}
    """
    wanted = list(dict.fromkeys(i.strip() for i in ids.split(",") if i.strip()))
    if not 2 <= len(wanted) <= 10 or not all(re.fullmatch(PROFILE_ID_PATTERN, i) for i in wanted):
        raise Problem("validation-error", "ids: give 2 to 10 distinct profile ids, comma-separated")
    return service.compare(store, wanted)


@router.get("/search", response_model=SearchResult)
def search(
    store: StoreDep,
    q: Annotated[str, Query(min_length=2, max_length=64, description="start of a name (2+ characters)")],
    limit: Limit = 10,
) -> SearchResult:
    """Profiles whose name starts with ``q``.

    Examples
    --------
    >>> # GET /v1/search?q=ada -> {"hits": [{"profile_id": "p1", "name": "Ada Lovelace"}]}
    """
    return service.search(store, q, limit)


@router.get("/topics/{topic}/leaders", response_model=Leaders, responses=responses("version-not-found"))
def topic_leaders(
    store: StoreDep,
    topic: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="topic slug")],
    limit: Limit = 10,
    version: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,32}$")] = None,
) -> Leaders:
    """The most influential profiles in a topic.

    Examples
    --------
    >>> # GET /v1/topics/python/leaders -> {"leaders": [{"rank": 1, "profile_id": "p1", ...}]}
    """
    return service.leaders(store, topic, version, limit)
