"""A profile and what hangs off it: score, explanation, history, topics, influence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from functions.api import service
from functions.api.deps import NowDep, ProfileId, StoreDep
from functions.api.models import Explanation, History, Influence, Profile, Score, Topic, Topics
from functions.api.problems import KEYED, responses

router = APIRouter(
    prefix="/v1/profiles",
    tags=["profiles"],
    responses=responses(*KEYED, "profile-not-found", "profile-merged"),
)

Version = Annotated[
    str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,32}$", description="pin an algorithm version")
]


@router.get("/{profile_id}", response_model=Profile)
def get_profile(profile_id: ProfileId, store: StoreDep) -> Profile:
    """Name, linked accounts, score, bucket, changes, top topics and style.

    Examples
    --------
    >>> # GET /v1/profiles/p1 -> {"profile_id": "p1", "name": "Ada", "score": 63.2, ...}
    """
    return service.profile(store, profile_id)


@router.get("/{profile_id}/score", response_model=Score, responses=responses("version-not-found"))
def get_score(profile_id: ProfileId, store: StoreDep, version: Version = None) -> Score:
    """The score with its day/week/month changes and per-network sub-scores (one GetItem).

    Examples
    --------
    >>> # GET /v1/profiles/p1/score?version=v1 -> {"score": 63.2, "algorithm_version": "v1", ...}
    """
    return Score.from_record(service.score_record(store, profile_id, version))


@router.get("/{profile_id}/explain", response_model=Explanation, responses=responses("version-not-found"))
def get_explanation(
    profile_id: ProfileId, store: StoreDep, now: NowDep, version: Version = None
) -> Explanation:
    """The contributions that add up to the score; after a release, the change split into the new
    algorithm's part and the person's own activity.

    Examples
    --------
    >>> # GET /v1/profiles/p1/explain -> {"networks": {...}, "change_attribution": {...}}
    """
    return service.explain(store, profile_id, version, now)


@router.get("/{profile_id}/history", response_model=History)
def get_history(
    profile_id: ProfileId,
    store: StoreDep,
    now: NowDep,
    days: Annotated[int, Query(ge=1, le=365, description="how many days back, today included")] = 30,
) -> History:
    """Daily points, marked where the algorithm version changed.

    Examples
    --------
    >>> # GET /v1/profiles/p1/history?days=7 -> {"points": [{"day": "...", "version_changed": false}, ...]}
    """
    return service.history(store, profile_id, days, now)


@router.get("/{profile_id}/topics", response_model=Topics)
def get_topics(profile_id: ProfileId, store: StoreDep) -> Topics:
    """Topics the person is influential about, strongest first.

    Examples
    --------
    >>> # GET /v1/profiles/p1/topics -> {"topics": [{"slug": "python", "score": 71.0}]}
    """
    rec = service.score_record(store, profile_id)
    return Topics(
        profile_id=profile_id,
        algorithm_version=rec.algorithm_version,
        topics=[Topic.model_validate(t) for t in rec.topics],
    )


@router.get("/{profile_id}/influence", response_model=Influence)
def get_influence(profile_id: ProfileId, store: StoreDep) -> Influence:
    """Influencers and influencees, each with the interactions behind the link.

    Examples
    --------
    >>> # GET /v1/profiles/p1/influence -> {"influencers": [{"interactions": {"like": 3}}], ...}
    """
    return service.influence(store, profile_id)
