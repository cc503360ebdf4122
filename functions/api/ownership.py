"""A person proves they own an account and gets an owner token (see ``functions.shared.ownership``).

1. ``create_challenge``: a one-time code for one account (and, with the owner token of a profile, the
   request to link the account to that profile once proven), plus a secret shown once;
2. the person posts the code from the account; ingest verifies the challenge;
3. ``exchange``: with the secret, the owner token of the account's profile (after linking the account
   when asked), once. Before the code is seen: ``pending`` (202, ask again).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from functions.api import owner_tokens, service
from functions.api import selfservice_models as sm
from functions.api.deps import Caches, require_owner
from functions.api.problems import Problem
from functions.api.selfservice_store import AlreadyExists, selfservice_of
from functions.api.store import ApiTable
from functions.shared.ownership import CHALLENGE_TTL_S, CODE_TTL_S, challenge_id, new_code
from functions.shared.records import OwnershipChallengeRecord
from functions.shared.settings import Settings


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_challenge(
    store: ApiTable, settings: Settings, body: sm.ChallengeIn, owner_token: str | None, now: float
) -> sm.Challenge:
    """A challenge for the account ``body`` names (by id, or by a handle ingest has seen).

    Examples
    --------
    >>> body = sm.ChallengeIn(network="mastodon", account_id="m1")
    >>> create_challenge(store, settings, body, None, now=0).code  # doctest: +SKIP
    '#renownk3m9x2q7ab'
    """
    if (body.account_id is None) == (body.handle is None):
        raise Problem("validation-error", "give exactly one of account_id and handle")
    account_id = body.account_id
    if body.handle is not None:
        account = store.account_by_handle(body.network, body.handle)
        if account is None:
            raise Problem("account-not-found", f"no {body.network} account @{body.handle} has been seen yet")
        account_id = account.account_id
    assert account_id is not None
    if body.link_to_profile_id is not None:
        require_owner(settings, body.link_to_profile_id, owner_token, store, now)
        service._live_profile(store, body.link_to_profile_id)
    code = new_code()
    secret = secrets.token_urlsafe(24)
    rec = OwnershipChallengeRecord(
        challenge_id=challenge_id(code),
        network=body.network,
        account_id=account_id,
        secret_hash=_hash(secret),
        link_profile_id=body.link_to_profile_id,
        created_at=int(now),
        code_expires_at=int(now) + CODE_TTL_S,
        expires_at=int(now) + CHALLENGE_TTL_S,
    )
    selfservice_of(store).put_challenge(rec)
    return sm.Challenge(
        challenge_id=rec.challenge_id,
        network=rec.network,
        account_id=rec.account_id,
        code=code,
        secret=secret,
        code_expires_at=rec.code_expires_at,
        expires_at=rec.expires_at,
        instructions=(
            f"Post {code} from {body.network} account {body.handle or account_id} (a post, a reply or a "
            f"mention) within {CODE_TTL_S // 60} minutes, then POST the secret to "
            f"/v1/ownership/challenges/{rec.challenge_id}/token until it answers 200 (202: not seen yet)."
        ),
    )


def exchange(
    store: ApiTable,
    caches: Caches,
    settings: Settings,
    cid: str,
    body: sm.TokenExchangeIn,
    now: float,
) -> tuple[int, sm.ChallengeStatus]:
    """(status code, answer) of a token exchange: 202 pending, 200 with the owner token (once).

    Examples
    --------
    >>> exchange(store, caches, settings, "c1", sm.TokenExchangeIn(secret="s" * 32), 0)  # doctest: +SKIP
    (202, ChallengeStatus(challenge_id='c1', status='pending', ...))
    """
    table = selfservice_of(store)
    rec = table.get_challenge(cid)
    if rec is None or rec.expires_at <= now:
        raise Problem("challenge-not-found", f"no ownership challenge {cid} (or it expired and was removed)")
    if not hmac.compare_digest(_hash(body.secret).encode(), rec.secret_hash.encode()):
        raise Problem("invalid-challenge-secret", f"this is not the secret of challenge {cid}")
    if rec.status == "redeemed":
        raise Problem("challenge-redeemed", f"the owner token of challenge {cid} was issued already")
    if rec.status == "pending":
        if rec.other_account_posts:
            raise Problem(
                "code-posted-from-other-account",
                f"the code of challenge {cid} was posted from another account than {rec.network} account "
                f"{rec.account_id} ({rec.other_account_posts} time(s)): ask for a new code and post it "
                "from that account",
            )
        if rec.code_expires_at < now:
            raise Problem(
                "challenge-expired", f"the code was not seen from {rec.network} {rec.account_id} in time"
            )
        return 202, sm.ChallengeStatus(challenge_id=cid, status="pending")
    account = store.account_by_id(rec.network, rec.account_id)
    if account is None:
        raise Problem("account-not-found", f"no {rec.network} account {rec.account_id}")
    profile_id, linked = account.profile_id, False
    if rec.link_profile_id is not None and rec.link_profile_id != account.profile_id:
        target = service._live_profile(store, rec.link_profile_id)
        service.link_account(store, caches, target, account, now)
        profile_id, linked = rec.link_profile_id, True
    try:
        table.redeem_challenge(cid, int(now))
    except AlreadyExists:
        raise Problem("challenge-redeemed", f"challenge {cid}'s owner token was issued already") from None
    secret = settings.widget_signing_key.get_secret_value().encode()
    token, parts = owner_tokens.issue(secret, profile_id, now, body.ttl_days)
    return 200, sm.ChallengeStatus(
        challenge_id=cid,
        status="issued",
        profile_id=profile_id,
        owner_token=token,
        token_id=parts.token_id,
        token_expires_at=parts.expires_at,
        linked=linked,
    )
