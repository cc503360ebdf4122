"""Ingest's side of ownership proofs: find one-time codes in what accounts post and verify the
challenges they belong to (see ``functions.shared.ownership``).

Two conditional updates on ``PROOF#<id> / META`` per code seen, never more: ``pending -> verified``
when the actor is the account the challenge names, the code has not expired and no other account has
posted it (a code seen elsewhere has leaked: the person asks for a new one), else ``ADD
other_account_posts 1`` when it came from any other account. A code that names no challenge changes
nothing (the conditions require the item), and seeing the same post twice changes nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from functions.ingest.networks.base import Activity
from functions.shared import keys
from functions.shared.ownership import PROOF_KINDS, challenge_id, codes_in


def _update(client: Any, table: str, cid: str, **kwargs: Any) -> bool:
    try:
        key = {"PK": {"S": keys.proof_pk(cid)}, "SK": {"S": keys.META_SK}}
        client.update_item(TableName=table, Key=key, **kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def observe(client: Any, table: str, network: str, account_id: str, code: str, now: int) -> str:
    """Apply one code seen posted by ``network``/``account_id``: ``verified``, ``other-account`` or
    ``ignored`` (no pending challenge: unknown, expired, or verified already)."""
    cid = challenge_id(code)
    values = {
        ":pending": {"S": "pending"},
        ":net": {"S": network},
        ":acct": {"S": account_id},
        ":now": {"N": str(now)},
    }
    verified = _update(
        client,
        table,
        cid,
        UpdateExpression="SET #s = :verified, verified_at = :now",
        ConditionExpression=(
            "#s = :pending AND network = :net AND account_id = :acct AND code_expires_at >= :now"
            " AND (attribute_not_exists(other_account_posts) OR other_account_posts = :zero)"
        ),
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={**values, ":verified": {"S": "verified"}, ":zero": {"N": "0"}},
    )
    if verified:
        return "verified"
    other = _update(
        client,
        table,
        cid,
        UpdateExpression="ADD other_account_posts :one",
        ConditionExpression="#s = :pending AND NOT (network = :net AND account_id = :acct)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":pending": values[":pending"],
            ":net": values[":net"],
            ":acct": values[":acct"],
            ":one": {"N": "1"},
        },
    )
    return "other-account" if other else "ignored"


def bind_codes(client: Any, table: str, activities: Iterable[Activity], now: int) -> dict[str, int]:
    """Look for codes in posts, replies, mentions and quotes; returns how many had each outcome.

    Examples
    --------
    >>> bind_codes(None, "renown", [], now=0)
    {}
    """
    outcomes: dict[str, int] = {}
    seen: set[tuple[str, str, str]] = set()
    for act in activities:
        if act.kind not in PROOF_KINDS:
            continue
        for code in codes_in(act.terms):
            key = (act.network, act.actor.account_id, code.lower())
            if key in seen:
                continue
            seen.add(key)
            outcome = observe(client, table, act.network, act.actor.account_id, code.lower(), now)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
