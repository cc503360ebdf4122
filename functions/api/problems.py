"""Errors as RFC 9457 ``application/problem+json`` with stable ``type`` URIs.

Every error the API produces goes through :class:`Problem`; FastAPI's own errors (validation, unknown
routes, wrong methods) are converted by the handlers that :func:`install` registers.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from functions.api.models import FieldError, ProblemDetails

PROBLEM_BASE = "https://renown.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
COMPONENT_REF = "#/components/schemas/{model}"
PROBLEM_SCHEMA_REF = COMPONENT_REF.format(model="ProblemDetails")

# slug -> (status, title); the slugs are part of the public contract: never rename one
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "profile-merged": (308, "This profile was merged into another: follow Location or merged_into"),
    "missing-owner-token": (401, "An x-renown-owner-token header is required"),
    "missing-api-key": (401, "A valid x-api-key header is required"),
    "invalid-api-key": (401, "The x-api-key is not valid"),
    "invalid-owner-token": (403, "The owner token does not prove ownership of this profile"),
    "invalid-account-proof": (403, "The proof does not show ownership of this account"),
    "invalid-widget-key": (403, "The widget key or signed URL is not valid for this page"),
    "profile-not-found": (404, "No such profile"),
    "account-not-found": (404, "No such account"),
    "not-found": (404, "Not found"),
    "version-not-found": (404, "No score under this algorithm version"),
    "method-not-allowed": (405, "Method not allowed"),
    "already-endorsed": (409, "Already endorsed in this topic today"),
    "link-conflict": (409, "The account or a profile changed while linking: read them again and retry"),
    "home-account": (409, "An account cannot be disconnected from the profile it was created with"),
    "validation-error": (422, "The request is not valid"),
    "no-shared-network": (422, "The giver and the receiver of a +K share no network"),
    "quota-exceeded": (429, "Daily quota exceeded"),
    "endorsement-limit": (429, "Daily endorsement limit reached"),
    "store-unavailable": (503, "The data store does not answer"),
    "internal-error": (500, "Something went wrong on our side"),
    # self-service: keys, owner tokens, ownership proofs, perks
    "owner-token-expired": (401, "The owner token has expired"),
    "owner-token-revoked": (401, "The owner token was revoked"),
    "missing-admin-credential": (401, "An admin credential is required"),
    "invalid-admin-credential": (403, "The admin credential is not valid"),
    "unknown-plan": (422, "No such usage plan"),
    "api-key-not-found": (404, "No such API key"),
    "api-key-revoked": (409, "The API key is revoked already"),
    "plan-unavailable": (503, "The usage plan does not exist in API Gateway"),
    "challenge-not-found": (404, "No such ownership challenge"),
    "invalid-challenge-secret": (403, "The secret does not belong to this challenge"),
    "challenge-expired": (410, "The ownership challenge has expired"),
    "challenge-pending": (409, "The code has not been seen posted from the account yet"),
    "code-posted-from-other-account": (403, "The code was posted from another account"),
    "challenge-redeemed": (409, "The owner token of this challenge was issued already"),
    "brand-role-required": (403, "Only API keys with the brand role manage perks"),
    "perk-not-found": (404, "No such perk"),
    "perk-limit": (409, "The owner has as many perks as allowed"),
    "perk-expired": (410, "The perk has expired"),
    "perk-not-eligible": (403, "The profile does not qualify for this perk"),
    "perk-already-claimed": (409, "The profile has claimed this perk already"),
}


class Problem(Exception):  # noqa: N818 (a problem document, not an error class name)
    """An error answered as ``application/problem+json``.

    Parameters
    ----------
    slug
        Key of :data:`PROBLEM_TYPES`; the ``type`` URI is ``PROBLEM_BASE + slug``.
    detail
        Human-readable explanation of this occurrence.
    headers
        Extra response headers (``Retry-After``, CORS...).

    Examples
    --------
    >>> Problem("profile-not-found", "no profile p1").status
    404
    """

    def __init__(
        self,
        slug: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        *,
        merged: tuple[str, str] | None = None,
    ) -> None:
        self.slug = slug
        self.status, self.title = PROBLEM_TYPES[slug]
        self.detail = detail
        self.headers = headers or {}
        self.merged = merged  # (old profile id, profile it was merged into), for ``profile-merged``
        super().__init__(detail or self.title)

    @classmethod
    def profile_merged(cls, profile_id: str, merged_into: str) -> Problem:
        """308 ``profile-merged``: ``Location`` is the same URL with ``merged_into`` in place of the id.

        Examples
        --------
        >>> Problem.profile_merged("p1", "p2").status
        308
        """
        return cls(
            "profile-merged",
            f"profile {profile_id} was merged into {merged_into}",
            merged=(profile_id, merged_into),
        )

    def body(self, instance: str | None = None, errors: list[FieldError] | None = None) -> ProblemDetails:
        """The problem document of this error."""
        return ProblemDetails(
            type=PROBLEM_BASE + self.slug,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=errors,
            merged_into=self.merged[1] if self.merged else None,
        )


def problem_response(
    problem: Problem, request: Request, errors: list[FieldError] | None = None
) -> JSONResponse:
    """Render ``problem`` for ``request`` as an ``application/problem+json`` response.

    Examples
    --------
    >>> from starlette.requests import Request as R
    >>> r = problem_response(Problem("not-found"), R({"type": "http", "path": "/x", "headers": []}))
    >>> r.status_code, r.media_type
    (404, 'application/problem+json')
    """
    body = problem.body(instance=request.url.path, errors=errors)
    headers = dict(problem.headers)
    if problem.merged is not None:
        headers["Location"] = redirect_location(request, *problem.merged)
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def redirect_location(request: Request, old: str, new: str) -> str:
    """The request's path and query with the path segment ``old`` replaced by ``new``.

    Examples
    --------
    >>> from starlette.requests import Request as R
    >>> scope = {"type": "http", "path": "/v1/profiles/p1/score", "query_string": b"version=v2"}
    >>> scope["headers"] = []
    >>> redirect_location(R(scope), "p1", "p9")
    '/v1/profiles/p9/score?version=v2'
    """
    path = "/".join(new if part == old else part for part in request.url.path.split("/"))
    query = request.url.query
    return f"{path}?{query}" if query else path


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        out.append(
            FieldError(field=".".join(loc), message=str(err.get("msg", "")), kind=str(err.get("type", "")))
        )
    return out


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc, request)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)[:500]
    return problem_response(Problem("validation-error", detail), request, errors)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code)
    if slug is None:
        problem = Problem("not-found")
        problem.status, problem.title, problem.slug = (
            exc.status_code,
            str(exc.detail),
            f"http-{exc.status_code}",
        )
    else:
        problem = Problem(slug)
    problem.headers = dict(exc.headers or {})
    return problem_response(problem, request)


async def _on_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything unexpected: 503 ``store-unavailable`` (with ``Retry-After``) when the data store failed
    or timed out, else 500 ``internal-error``; problem+json either way, never the server's plain text."""
    if isinstance(exc, (BotoCoreError, ClientError)):
        problem = Problem("store-unavailable", type(exc).__name__, {"Retry-After": "1"})
    else:
        problem = Problem("internal-error")
    logging.getLogger("renown.api").error(
        "unexpected error answered %s", problem.status, exc_info=(type(exc), exc, exc.__traceback__)
    )
    return problem_response(problem, request)


def install(app: FastAPI) -> None:
    """Register the problem handlers on ``app``.

    Examples
    --------
    >>> from fastapi import FastAPI
    >>> install(FastAPI())
    """
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_error)


def responses(*slugs: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problems an operation can answer.

    They refer to the ``ProblemDetails`` schema instead of naming the model: with a ``model`` FastAPI
    builds a pydantic field per operation and status when the route is declared (at import, about a
    hundred of them, a third of the routers' import time), used only to write ``/openapi.json``;
    :func:`openapi_components` supplies the schema when that is generated.

    Examples
    --------
    >>> sorted(responses("profile-not-found", "validation-error"))
    [404, 422]
    >>> responses("profile-not-found")[404]["content"]
    {'application/problem+json': {'schema': {'$ref': '#/components/schemas/ProblemDetails'}}}
    """
    out: dict[int | str, dict[str, Any]] = {}
    for slug in slugs:
        status, title = PROBLEM_TYPES[slug]
        entry = out.setdefault(
            status,
            {"content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}, "description": ""},
        )
        entry["description"] = "; ".join(
            filter(None, [entry["description"], f"`{PROBLEM_BASE}{slug}`: {title}"])
        )
    return out


def openapi_components() -> dict[str, dict[str, Any]]:
    """``components.schemas`` entries of the problem body: ``ProblemDetails`` and what it nests.

    Examples
    --------
    >>> sorted(openapi_components())
    ['FieldError', 'ProblemDetails']
    """
    schema = ProblemDetails.model_json_schema(ref_template=COMPONENT_REF, mode="serialization")
    nested = schema.pop("$defs", {})
    # as FastAPI writes every schema of the document (``exclude_none``: no ``"default": null``)
    out: dict[str, dict[str, Any]] = jsonable_encoder({**nested, "ProblemDetails": schema}, exclude_none=True)
    return out


# what every keyed /v1 operation can answer
KEYED = ("missing-api-key", "invalid-api-key", "quota-exceeded", "validation-error")
