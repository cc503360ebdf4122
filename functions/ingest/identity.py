"""Identity at ingest: deterministic profile ids, first-sight account creation and opt-out markers.

A profile is created the first time one of its accounts is seen, with an id derived from that
account, so two processors racing on the same new account create the same profile (conditional puts
make the second a no-op). Linking more accounts to a profile later (connect/disconnect) rewrites the
``AccountRecord.profile_id``; the API owns that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from functions.ingest.networks.base import AccountRef
from functions.shared import keys
from functions.shared.keys import AccountKey
from functions.shared.records import AccountRecord, LinkRecord, ProfileRecord


def profile_id_for(network: str, account_id: str) -> str:
    """The profile id minted for an account seen for the first time.

    Examples
    --------
    >>> profile_id_for("twitter", "12")
    'p4566502ab94e4ac0'
    """
    return "p" + hashlib.sha256(f"{network}:{account_id}".encode()).hexdigest()[:16]


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batch_get(
    client: Any, table_name: str, key_list: list[dict[str, str]], attributes: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """BatchGetItem over any number of ``{"PK", "SK"}`` keys (chunks of 100, retries unprocessed).

    Returns the raw (low-level, typed) items found, with their keys and ``attributes`` only.
    """
    found: list[dict[str, Any]] = []
    unique = list({(k["PK"], k["SK"]): k for k in key_list}.values())
    names = {f"#p{i}": name for i, name in enumerate(attributes)}
    projection = ", ".join(["PK", "SK", *names])
    for chunk in _chunks(unique, 100):
        request: dict[str, Any] = {
            table_name: {
                "Keys": [{"PK": {"S": k["PK"]}, "SK": {"S": k["SK"]}} for k in chunk],
                "ProjectionExpression": projection,
            }
        }
        if names:
            request[table_name]["ExpressionAttributeNames"] = names
        for _attempt in range(8):
            answer = client.batch_get_item(RequestItems=request)
            found.extend(answer.get("Responses", {}).get(table_name, []))
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
    return found


def first_sight_items(network: str, ref: AccountRef, now: int) -> list[dict[str, Any]]:
    """The account, profile and link items of an account seen for the first time (plain values).

    Examples
    --------
    >>> [i["PK"] for i in first_sight_items("twitter", AccountRef(account_id="12"), 0)]
    ['ACCOUNT#twitter#12', 'PROFILE#p4566502ab94e4ac0', 'PROFILE#p4566502ab94e4ac0']
    """
    profile_id = profile_id_for(network, ref.account_id)
    handle = ref.handle or ref.account_id
    account = AccountRecord(
        network=network,
        account_id=ref.account_id,
        profile_id=profile_id,
        handle=handle,
        display_name=ref.name,
        followers=ref.followers or 0,
        created=ref.created,
        linked_at=now,
    )
    profile = ProfileRecord(profile_id=profile_id, name=ref.name or handle, created_at=now)
    link = LinkRecord(profile_id=profile_id, network=network, account_id=ref.account_id, handle=handle)
    return [account.to_item(), profile.to_item(), link.to_item()]


class Identity:
    """Opt-out checks and first-sight account/profile creation against the table.

    ``known`` caches accounts this process has already seen exist (opt-out is never cached).
    """

    def __init__(self, table: Any, client: Any) -> None:
        self.table = table
        self.client = client
        self.known: set[AccountKey] = set()
        self.followers: dict[AccountKey, int] = {}  # last follower count stored, as far as we know
        self.created: dict[AccountKey, int] = {}  # creation time stored on the account, as far as we know

    def lookup(self, accounts: Iterable[AccountKey]) -> tuple[set[AccountKey], set[AccountKey]]:
        """``(opted_out, missing)``: accounts with an opt-out marker, and accounts not stored yet."""
        wanted = set(accounts)
        markers = {(n, a): keys.optout_pks(n, a) for n, a in wanted}
        key_list = [{"PK": pk, "SK": keys.META_SK} for pks in markers.values() for pk in pks]
        key_list += [
            {"PK": keys.account_pk(n, a), "SK": keys.META_SK} for n, a in wanted if (n, a) not in self.known
        ]
        found = batch_get(self.client, self.table.name, key_list, ("created",))
        present = {item["PK"]["S"] for item in found}
        for item in found:
            pk = item["PK"]["S"]
            if pk.startswith("ACCOUNT#") and "followers" in item:
                _, network, account = pk.split("#", 2)
                self.followers[(network, account)] = int(item["followers"]["N"])
            if pk.startswith("ACCOUNT#") and "created" in item:
                _, network, account = pk.split("#", 2)
                self.created[(network, account)] = int(item["created"]["N"])
        opted_out = {acct for acct, pks in markers.items() if any(pk in present for pk in pks)}
        for n, a in wanted:
            if keys.account_pk(n, a) in present:
                self.known.add((n, a))
        return opted_out, {k for k in wanted if k not in self.known}

    def create(self, network: str, ref: AccountRef, now: int) -> int:
        """Create account, profile and link on first sight; returns the number of items written."""
        account, profile, link = first_sight_items(network, ref, now)
        written = 0
        if self._put_new(account):
            written += 1
            if ref.created is not None:
                self.created[(network, ref.account_id)] = ref.created
            written += self._put_new(profile)
            written += self._put_new(link)
        self.known.add((network, ref.account_id))
        self.followers.setdefault((network, ref.account_id), ref.followers or 0)
        return written

    def _put_new(self, item: dict[str, Any]) -> int:
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(PK)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return 0
            raise
        return 1
