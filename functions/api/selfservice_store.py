"""Data access of self-service: registered API keys, usage counters by route group, owner-token
revocations, ownership challenges, and brands' perks with their claims.

Access patterns (see ``docs/data-model.md``):

- a key by hash: ``GetItem APIKEY#<sha256> / META``; by public id: ``GSI2 KEYID#<id>``; an owner's keys:
  ``GSI1 APIKEYS`` with ``begins_with(GSI1SK, "<owner>#")``; every key: ``GSI1 APIKEYS``;
- usage: ``Query APIKEY#<sha256>`` over ``USAGE#<from>..USAGE#<to>`` (``requests`` and ``g_<group>``);
- owner tokens: ``BatchGetItem`` of ``OWNERTOKENS#<hash(profile)> / REVOKED#<token id>`` and ``/ NOTBEFORE``;
- a challenge: ``GetItem PROOF#<id> / META``;
- an owner's perks: ``GSI2 PERKSOF#<owner>``; a perk's claims: ``Query PERK#<id>``, ``SK`` from
  ``CLAIMED#``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.api.store import DynamoApiTable, _ser, from_attr
from functions.shared import keys
from functions.shared.records import (
    ApiKeyRecord,
    OwnershipChallengeRecord,
    PerkClaimRecord,
    PerkRecord,
)


class AlreadyExists(Exception):  # noqa: N818
    """A conditional put found the item there already (a perk claimed twice, a challenge redeemed)."""


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class SelfServiceTable(DynamoApiTable):
    """The self-service reads and writes, on the same client and table as :class:`DynamoApiTable`.

    Examples
    --------
    >>> table = SelfServiceTable(client=object(), table_name="renown")
    >>> table.table_name
    'renown'
    """

    # --- API keys ----------------------------------------------------------------------------------
    def put_api_key(self, rec: ApiKeyRecord) -> None:
        """Register a new key (fails if the hash is known: a key is never registered twice)."""
        self.client.put_item(
            TableName=self.table_name,
            Item=_ser(rec.to_item()),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def api_keys(self, owner: str | None = None) -> list[ApiKeyRecord]:
        """Registered keys, of one owner or of all, by owner then creation time."""
        condition = "GSI1PK = :pk"
        values: dict[str, Any] = {":pk": keys.APIKEYS_GSI1PK}
        if owner is not None:
            condition += " AND begins_with(GSI1SK, :owner)"
            values[":owner"] = f"{owner}#"
        items = self._query(
            IndexName="GSI1", KeyConditionExpression=condition, ExpressionAttributeValues=_ser(values)
        )
        return [ApiKeyRecord.from_item(it) for it in items]

    def api_key_by_id(self, key_id: str) -> ApiKeyRecord | None:
        """A registered key from its public id (GSI2, keys only, then one GetItem)."""
        found = self._query(
            IndexName="GSI2",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues=_ser({":pk": keys.keyid_gsi2pk(key_id)}),
        )
        for item in found:
            return self.get_api_key(str(item["GSI2SK"]).removeprefix("APIKEY#"))
        return None

    def revoke_api_key(self, key_hash: str, now: int, replaced_by: str | None = None) -> ApiKeyRecord:
        """Mark a key revoked (the API refuses it within ``KEY_CACHE_S``); returns the record."""
        sets = "revoked = :t, revoked_at = :now"
        values: dict[str, Any] = {":t": True, ":now": now}
        if replaced_by:
            sets += ", replaced_by = :by"
            values[":by"] = replaced_by
        out = self.client.update_item(
            TableName=self.table_name,
            Key=_ser({"PK": keys.apikey_pk(key_hash), "SK": keys.META_SK}),
            UpdateExpression="SET " + sets,
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=_ser(values),
            ReturnValues="ALL_NEW",
        )
        rec: ApiKeyRecord = ApiKeyRecord.from_item({k: _des_one(v) for k, v in out["Attributes"].items()})
        return rec

    def usage_days(self, key_hash: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """The key's daily counters: ``{"day", "requests", "g_<group>": n, ...}`` per day."""
        items = self._query(
            KeyConditionExpression="PK = :pk AND SK BETWEEN :lo AND :hi",
            ExpressionAttributeValues=_ser(
                {
                    ":pk": keys.apikey_pk(key_hash),
                    ":lo": keys.usage_sk(first_day),
                    ":hi": keys.usage_sk(last_day),
                }
            ),
        )
        return list(items)

    # --- owner tokens ------------------------------------------------------------------------------
    def token_revoked(self, profile_id: str, token_id: str, issued_at: int) -> bool:
        """True when the token was revoked alone, or all the profile's tokens issued up to its time."""
        pk = keys.owner_tokens_pk(profile_id)
        found = self._batch_get([(pk, keys.revoked_token_sk(token_id)), (pk, keys.NOT_BEFORE_SK)])
        return any(item["SK"] != keys.NOT_BEFORE_SK or issued_at <= int(item["not_before"]) for item in found)

    def revoke_token(self, profile_id: str, token_id: str, token_expires_at: int, now: int) -> None:
        """Revoke one owner token (the record lives until the token would have expired: TTL)."""
        item = {
            "PK": keys.owner_tokens_pk(profile_id),
            "SK": keys.revoked_token_sk(token_id),
            "revoked_at": now,
            "expires_at": token_expires_at,
        }
        self.client.put_item(TableName=self.table_name, Item=_ser(item))

    def revoke_all_tokens(self, profile_id: str, now: int) -> None:
        """Revoke every owner token of the profile issued up to ``now``."""
        item = {"PK": keys.owner_tokens_pk(profile_id), "SK": keys.NOT_BEFORE_SK, "not_before": now}
        self.client.put_item(TableName=self.table_name, Item=_ser(item))

    # --- ownership challenges ----------------------------------------------------------------------
    def put_challenge(self, rec: OwnershipChallengeRecord) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=_ser(rec.to_item()),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get_challenge(self, challenge_id: str) -> OwnershipChallengeRecord | None:
        item = self._get(keys.proof_pk(challenge_id), keys.META_SK)
        return None if item is None else OwnershipChallengeRecord.from_item(item)

    def redeem_challenge(self, challenge_id: str, now: int) -> None:
        """verified -> redeemed, once (raises :class:`AlreadyExists` when it was redeemed already)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_ser({"PK": keys.proof_pk(challenge_id), "SK": keys.META_SK}),
                UpdateExpression="SET #s = :redeemed, redeemed_at = :now",
                ConditionExpression="#s = :verified",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_ser(
                    {":redeemed": "redeemed", ":verified": "verified", ":now": now}
                ),
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise AlreadyExists(challenge_id) from None
            raise

    # --- perks and claims --------------------------------------------------------------------------
    def perks_of(self, owner: str) -> list[PerkRecord]:
        """Every perk of an owner (GSI2 keys, then one BatchGetItem)."""
        found = self._query(
            IndexName="GSI2",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues=_ser({":pk": f"PERKSOF#{owner}"}),
        )
        refs = [(str(it["PK"]), str(it["SK"])) for it in found]
        perks = [PerkRecord.from_item(it) for it in self._batch_get(refs)] if refs else []
        return sorted(perks, key=lambda p: (p.created_at, p.perk_id))

    def get_perk(self, perk_id: str) -> PerkRecord | None:
        item = self._get(keys.perk_pk(perk_id), keys.META_SK)
        return None if item is None else PerkRecord.from_item(item)

    def delete_perk(self, perk_id: str) -> int:
        """Delete a perk and its claims; returns how many claims went with it."""
        doomed = self._partition_keys(keys.perk_pk(perk_id))
        self._batch_delete(doomed)
        return sum(1 for _, sk in doomed if sk != keys.META_SK)

    def claim_perk(self, rec: PerkClaimRecord) -> None:
        """Record a claim, once per profile and perk (raises :class:`AlreadyExists` the second time)."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_ser(rec.to_item()),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise AlreadyExists(rec.perk_id) from None
            raise

    def claims_of(self, perk_id: str) -> list[PerkClaimRecord]:
        items = self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :c)",
            ExpressionAttributeValues=_ser({":pk": keys.perk_pk(perk_id), ":c": keys.perk_claim_sk("")}),
        )
        return [PerkClaimRecord.from_item(it) for it in items]

    def count_topic_at_least(self, topic: str, version: str, min_score: float) -> int:
        """Profiles in a topic's leaderboard whose overall score is at least ``min_score`` (COUNT)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "FilterExpression": "score >= :min",
            "ExpressionAttributeValues": _ser({":pk": keys.topic_gsi1pk(topic, version), ":min": min_score}),
            "Select": "COUNT",
        }
        total = 0
        while True:
            out = self.client.query(**kwargs)
            total += int(out.get("Count", 0))
            if not out.get("LastEvaluatedKey"):
                return total
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def score_report(self, version: str) -> dict[str, Any]:
        """The shift report of a version (``ALGO / REPORT#<v>``: its score histogram), or {}."""
        item = self._get(keys.ALGO_PK, keys.report_sk(version)) or {}
        report: dict[str, Any] = item.get("report") or {}
        return report


def selfservice_of(store: Any) -> SelfServiceTable:
    """The self-service table over the same client and table as ``store`` (a :class:`DynamoApiTable`).

    Examples
    --------
    >>> selfservice_of(DynamoApiTable(client=object(), table_name="t")).table_name
    't'
    """
    if isinstance(store, SelfServiceTable):
        return store
    cached = getattr(store, "_selfservice", None)
    if cached is None:
        cached = SelfServiceTable(client=store.client, table_name=store.table_name)
        store._selfservice = cached
    return cached


def _des_one(attr: dict[str, Any]) -> Any:
    return from_attr(attr)
