"""``GET /health``: 200 once the store answers (no API key)."""

from __future__ import annotations

from fastapi import APIRouter

from functions.api.deps import StoreDep
from functions.api.models import Health
from functions.api.problems import Problem, responses

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses=responses("store-unavailable"))
def health(store: StoreDep) -> Health:
    """Liveness and store reachability (reads the active version pointer).

    Examples
    --------
    >>> # GET /health -> {"status": "ok", "store": "ok", "algorithm_version": "v1"}
    """
    try:
        version = store.ping()
    except Exception as exc:
        raise Problem("store-unavailable", type(exc).__name__) from None
    return Health(algorithm_version=version)
