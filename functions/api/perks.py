"""Brands' perks: who may publish them, what a brand sees of its own, and people claiming them.

A perk belongs to the owner of the API key that created it; only keys with the ``brand`` role create,
list, change or delete perks, each owner at most ``PERKS_PER_OWNER`` of them, and another owner's perk
answers 404 (its existence is not disclosed). A person claims a live perk they qualify for, once, with
their owner token; the brand lists the claims.
"""

from __future__ import annotations

import secrets
from typing import Any

from functions.api import models as m
from functions.api import selfservice_models as sm
from functions.api import service
from functions.api.deps import Caller
from functions.api.problems import Problem
from functions.api.selfservice_store import AlreadyExists, SelfServiceTable
from functions.shared.records import PerkClaimRecord, PerkRecord

PERKS_PER_OWNER = 25
BRAND = "brand"


def require_brand(caller: Caller) -> str:
    """The owner the caller acts for, when its key has the brand role (else 403)."""
    if BRAND not in caller.roles:
        raise Problem(
            "brand-role-required", f"API key {caller.key_hash[:12]} has no brand role: ask for a brand key"
        )
    return caller.owner_or_key


def _perk(rec: PerkRecord) -> m.Perk:
    return m.Perk.model_validate(rec.model_dump())


def own(table: SelfServiceTable, owner: str, perk_id: str) -> PerkRecord:
    """The caller's perk ``perk_id`` (404 for another owner's or an unknown one)."""
    rec = table.get_perk(perk_id)
    if rec is None or rec.owner != owner:
        raise Problem("perk-not-found", f"no perk {perk_id} of {owner}")
    return rec


def create(table: SelfServiceTable, caller: Caller, body: m.PerkIn, now: float) -> m.Perk:
    """Publish a perk for the caller's owner, within the cap."""
    owner = require_brand(caller)
    if body.expires_at <= now:
        raise Problem("validation-error", "expires_at must be in the future")
    if len(table.perks_of(owner)) >= PERKS_PER_OWNER:
        raise Problem("perk-limit", f"{owner} has {PERKS_PER_OWNER} perks: delete one first")
    rec = PerkRecord(
        perk_id="perk_" + secrets.token_hex(8),
        created_at=int(now),
        created_by=caller.key_hash[:12],
        owner=owner,
        **body.model_dump(),
    )
    table.put_perk(rec)
    return _perk(rec)


def update(table: SelfServiceTable, caller: Caller, perk_id: str, patch: sm.PerkPatch, now: float) -> m.Perk:
    """Change the fields the patch sets (the expiry must stay in the future)."""
    rec = own(table, require_brand(caller), perk_id)
    changes: dict[str, Any] = patch.model_dump(exclude_unset=True)
    if changes.get("expires_at") is not None and changes["expires_at"] <= now:
        raise Problem("validation-error", "expires_at must be in the future")
    changes = {k: v for k, v in changes.items() if v is not None or k == "topic"}
    updated = rec.model_copy(update={**changes, "updated_at": int(now)})
    table.put_perk(updated)
    return _perk(updated)


def delete(table: SelfServiceTable, caller: Caller, perk_id: str) -> m.Perk:
    rec = own(table, require_brand(caller), perk_id)
    table.delete_perk(perk_id)
    return _perk(rec)


def qualifying(table: SelfServiceTable, caller: Caller, perk_id: str) -> sm.Qualifying:
    """How many profiles qualify for the perk under the active version: exact for a topic perk (the
    topic's leaderboard, filtered by score), else from the version's score histogram (5-point bins:
    the profiles in bins at or above the minimum, a lower bound)."""
    rec = own(table, require_brand(caller), perk_id)
    version = table.active_version()
    if version is None:
        return sm.Qualifying(
            perk_id=perk_id, algorithm_version=None, profiles=0, exact=True, method="no scores"
        )
    if rec.topic:
        count = table.count_topic_at_least(rec.topic, version, rec.min_score)
        return sm.Qualifying(
            perk_id=perk_id, algorithm_version=version, profiles=count, exact=True, method="topic leaderboard"
        )
    report = table.score_report(version)
    hist = report.get("score_histogram") or {}
    edges, counts = list(hist.get("edges") or []), list(hist.get("new") or [])
    count = sum(int(c) for lo, c in zip(edges, counts, strict=False) if float(lo) >= rec.min_score)
    return sm.Qualifying(
        perk_id=perk_id, algorithm_version=version, profiles=count, exact=False, method="score histogram"
    )


def claim(table: SelfServiceTable, profile_id: str, perk_id: str, now: float) -> sm.PerkClaim:
    """A person's claim (the caller checked the owner token): live, qualifying, once."""
    rec = table.get_perk(perk_id)
    if rec is None:
        raise Problem("perk-not-found", f"no perk {perk_id}")
    if rec.expires_at <= now:
        raise Problem("perk-expired", f"perk {perk_id} expired at {rec.expires_at}")
    score = service.score_record(table, profile_id)
    topics = {str(t.get("slug")) for t in score.topics}
    if score.score < rec.min_score or (rec.topic is not None and rec.topic not in topics):
        need = f"a score of at least {rec.min_score:g}" + (f" and the topic {rec.topic}" if rec.topic else "")
        raise Problem("perk-not-eligible", f"perk {perk_id} needs {need}; {profile_id} has {score.score:g}")
    out = PerkClaimRecord(perk_id=perk_id, profile_id=profile_id, claimed_at=int(now), score=score.score)
    try:
        table.claim_perk(out)
    except AlreadyExists:
        raise Problem("perk-already-claimed", f"{profile_id} claimed perk {perk_id} already") from None
    return sm.PerkClaim.model_validate(out.model_dump())


def claims(table: SelfServiceTable, caller: Caller, perk_id: str) -> sm.PerkClaims:
    own(table, require_brand(caller), perk_id)
    found = table.claims_of(perk_id)
    return sm.PerkClaims(perk_id=perk_id, claims=[sm.PerkClaim.model_validate(c.model_dump()) for c in found])
