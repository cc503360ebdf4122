"""Writes one delivery's activities to the single table: accounts on first sight, standalone posts
as activities (TTL), and the additive aggregates (edges, ``posts`` counters, topic evidence) with
``ADD`` in transactions that also claim every activity counted (``claims``).

Every engagement and standalone post is counted exactly once, keyed on the network's own activity
id, across subscriber copies, retries, redeliveries, replays and backfills: the claims of up to
``TRANSACTION_ITEMS`` items' worth of activities and the ``ADD`` updates they aggregate to go in one
``TransactWriteItems``; a claim that already exists cancels the transaction, the activities already
claimed are left out and the rest are written again. A failure leaves whole transactions behind, never a
partial count.

Event times are checked first (``timecheck``): an event from the future or too old is dropped alone,
with its reason; then account metadata (``accountcheck``): a creation time in the future or before the
network existed, or a follower count out of range, is dropped alone (the activity is kept). A reported
creation time goes on the account (``AccountRecord.created``): in the record created on first sight,
else with one ``SET if_not_exists`` the first time a delivery reports it. Follower counts are
written (outside the transactions: a ``SET`` is idempotent) only when they moved by more than
``FOLLOWERS_LOG_STEP`` in ``log1p`` (what the score uses) from the last value this container knows to
be stored.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from functions.ingest.accountcheck import check_accounts, clean_ref, created_times
from functions.ingest.aggregate import Plan, additive, plan, update_keys
from functions.ingest.claims import claim_expiry, claim_key
from functions.ingest.deltas import item_deltas
from functions.ingest.identity import AccountKey, Identity
from functions.ingest.networks.base import AccountRef, Activity
from functions.ingest.timecheck import admit
from functions.shared import keys
from functions.shared.records import ActivityRecord

TRANSACTION_ITEMS = 100  # DynamoDB's limit of items per TransactWriteItems
CONFLICT_RETRIES = 6  # TransactionConflict (another writer on the same item): back off and retry
_SERIALIZER = TypeSerializer()


def activity_record(act: Activity, ttl_s: int) -> ActivityRecord:
    """The stored record of a standalone post (the webhook path and the backfill write the same)."""
    return ActivityRecord(
        network=act.network,
        account_id=act.actor.account_id,
        activity_id=act.activity_id,
        kind=act.kind,
        timestamp=act.timestamp,
        target_account_id=act.target.account_id if act.target else None,
        post_id=act.post_id,
        terms=list(act.terms),
        expires_at=act.timestamp + ttl_s,
    )


@dataclass
class IngestStats:
    """What one delivery did (returned by the processor, stored as the idempotent result)."""

    activities: int = 0
    engagements: int = 0
    dropped_optout: int = 0
    new_accounts: int = 0
    engagement_posts: int = 0  # posts that are engagements: recorded by their edge only
    items_written: int = 0  # every item written (claims included); transactional writes cost 2 units
    duplicates: int = 0  # activities already counted (claimed by an earlier copy, retry or replay)
    dropped_time: int = 0  # events refused for their time (see ``dropped_reasons``)
    transactions: int = 0
    dropped_reasons: dict[str, int] = field(default_factory=dict)
    dropped_metadata: dict[str, int] = field(default_factory=dict)  # account metadata out of range
    created_written: int = 0  # creation times added to accounts stored before they were reported

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FOLLOWERS_LOG_STEP = 0.01  # about 1%: the teleport uses log1p(followers)


class IngestTableWriter:
    """Turns activities into table writes (see the module docstring).

    Examples
    --------
    >>> store = IngestTableWriter(table=None, client=None, activity_ttl_days=90)  # doctest: +SKIP
    >>> store.ingest(activities, delivery_id="twitter:ab", now=1700000000)  # doctest: +SKIP
    IngestStats(activities=3, engagements=2, ...)
    """

    def __init__(self, table: Any, client: Any, activity_ttl_days: int) -> None:
        self.table = table
        self.client = client
        self.table_name = getattr(table, "name", None) or ""
        self.identity = Identity(table, client)
        self.ttl_s = activity_ttl_days * 86_400

    def ingest(
        self,
        activities: list[Activity],
        delivery_id: str,
        now: int,
        accounts: Sequence[tuple[str, AccountRef]] = (),
    ) -> IngestStats:
        """Write ``activities`` (and the metadata of ``accounts``, ``(network, ref)`` seen without an
        activity, such as a Bluesky profile record) as the module docstring says."""
        stats = IngestStats()
        timed = admit(activities, now)
        stats.dropped_time, stats.dropped_reasons = len(timed.dropped), timed.reasons
        checked = check_accounts(timed.kept, now)
        activities = checked.activities
        described = [(network, clean_ref(network, ref, now, checked.dropped)) for network, ref in accounts]
        stats.dropped_metadata = checked.reasons
        created = created_times(activities)
        for network, seen in described:
            if seen.created is not None:
                key = (network, seen.account_id)
                created[key] = min(created.get(key, seen.created), seen.created)
        refs: dict[AccountKey, AccountRef] = {}
        for act in activities:
            for ref in (act.actor, act.target):
                if ref is not None:  # the ref with the most followers (some events carry none)
                    known = refs.get((act.network, ref.account_id))
                    if known is None or (ref.followers or 0) > (known.followers or 0):
                        refs[(act.network, ref.account_id)] = ref
        for key, chosen in refs.items():  # the creation time may come on another ref of the account
            if key in created and chosen.created != created[key]:
                refs[key] = chosen.model_copy(update={"created": created[key]})
        opted_out, missing = self.identity.lookup([*refs, *((n, r.account_id) for n, r in described)])
        kept = [
            a
            for a in activities
            if (a.network, a.actor.account_id) not in opted_out
            and (a.target is None or (a.network, a.target.account_id) not in opted_out)
        ]
        stats.dropped_optout = len(activities) - len(kept)
        needed = {(a.network, r.account_id) for a in kept for r in (a.actor, a.target) if r is not None}
        for key in sorted(missing & needed):
            written = self.identity.create(key[0], refs[key], now)
            stats.new_accounts += 1 if written else 0
            stats.items_written += written
        work = plan(kept)
        stats.engagement_posts = work.engagement_posts
        stats.items_written += self._activities(work)
        stats.items_written += self._followers(work)
        stats.created_written = self._created({k: v for k, v in created.items() if k not in opted_out})
        stats.items_written += stats.created_written
        for chunk in self._chunks(additive(kept)):
            self._claim_and_add(chunk, now, stats)
        return stats

    # --- additive writes, claimed per activity -------------------------------------------------

    @staticmethod
    def _chunks(units: list[Activity]) -> list[list[Activity]]:
        """Consecutive groups whose claims plus distinct update items fit one transaction."""
        chunks: list[list[Activity]] = []
        current: list[Activity] = []
        touched: set[tuple[str, ...]] = set()
        for act in units:
            keys_of = set(update_keys(act))
            if current and len(current) + 1 + len(touched | keys_of) > TRANSACTION_ITEMS:
                chunks.append(current)
                current, touched = [], set()
            current.append(act)
            touched |= keys_of
        if current:
            chunks.append(current)
        return chunks

    def _claim_and_add(self, chunk: list[Activity], now: int, stats: IngestStats) -> None:
        """Claim ``chunk``'s activities and add what they aggregate to, in one transaction; leave out
        the activities claimed already (and retry) until the rest commits."""
        pending = list(chunk)
        conflicts = 0
        while pending:
            items = [self._claim_put(act, now) for act in pending] + self._update_items(plan(pending), now)
            try:
                self.transact(items)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
                claimed = {
                    i for i, code in enumerate(reasons[: len(pending)]) if code == "ConditionalCheckFailed"
                }
                if claimed:
                    stats.duplicates += len(claimed)
                    pending = [act for i, act in enumerate(pending) if i not in claimed]
                    continue
                if "TransactionConflict" in reasons and conflicts < CONFLICT_RETRIES:
                    conflicts += 1
                    self.sleep(0.05 * 2**conflicts * random.random())
                    continue
                raise
            stats.transactions += 1
            stats.items_written += len(items)
            counted = [a for a in pending if a.is_engagement]
            stats.engagements += len(counted)
            stats.activities += len(pending) - len(counted)
            return

    def transact(self, items: list[dict[str, Any]]) -> None:
        self.client.transact_write_items(TransactItems=items)

    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def _claim_put(self, act: Activity, now: int) -> dict[str, Any]:
        item = claim_key(act.network, act.activity_id) | {"expires_at": claim_expiry(act.timestamp, now)}
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": {k: _SERIALIZER.serialize(v) for k, v in item.items()},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def _update_items(self, work: Plan, now: int) -> list[dict[str, Any]]:
        return [
            self._update(d.key, d.adds, d.sets, d.first_ts, d.last_ts, d.updated_at)
            for d in item_deltas(work, now)
        ]

    def _followers(self, work: Plan) -> int:
        """Follower counts that moved enough, written with an idempotent ``SET``."""
        written = 0
        for (network, account), counter in work.counters.items():
            followers = counter.followers
            known = self.identity.followers.get((network, account))
            if followers is None or (
                known is not None and abs(math.log1p(followers) - math.log1p(known)) <= FOLLOWERS_LOG_STEP
            ):
                continue
            update = self._update(
                {"PK": keys.account_pk(network, account), "SK": keys.COUNTERS_SK},
                {},
                {"network": network, "account_id": account, "followers": followers},
            )["Update"]
            self.client.update_item(**update)
            self.identity.followers[(network, account)] = int(followers)
            written += 1
        return written

    def _created(self, created: dict[AccountKey, int]) -> int:
        """Creation times of stored accounts that have none yet: ``SET if_not_exists`` on the account
        (idempotent; an account not stored, or erased meanwhile, is left alone)."""
        written = 0
        for (network, account), when in sorted(created.items()):
            if (network, account) in self.identity.created:
                continue
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key={"PK": {"S": keys.account_pk(network, account)}, "SK": {"S": keys.META_SK}},
                    UpdateExpression="SET #c = if_not_exists(#c, :c)",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeNames={"#c": "created"},
                    ExpressionAttributeValues={":c": {"N": str(int(when))}},
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                continue
            self.identity.created[(network, account)] = when
            written += 1
        return written

    def _activities(self, work: Plan) -> int:
        """Standalone posts as activity items (an idempotent put: a copy overwrites the same item)."""
        with self.table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
            for act in work.activities:
                record = activity_record(act, self.ttl_s)
                batch.put_item(Item=record.to_item())
        return len(work.activities)

    def _update(
        self,
        key: dict[str, str],
        adds: dict[str, Any],
        sets: dict[str, Any],
        first_ts: int | None = None,
        last_ts: int | None = None,
        updated_at: int | None = None,
    ) -> dict[str, Any]:
        """One ``Update`` of a transaction (low-level, typed values): ``ADD`` the counts, ``SET`` the
        descriptive attributes once (``followers`` always)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        add_parts: list[str] = []
        set_parts: list[str] = []
        for i, (name, value) in enumerate(adds.items()):
            names[f"#a{i}"], values[f":a{i}"] = name, value
            add_parts.append(f"#a{i} :a{i}")
        for i, (name, value) in enumerate(sets.items()):
            names[f"#s{i}"], values[f":s{i}"] = name, value
            set_parts.append(
                f"#s{i} = if_not_exists(#s{i}, :s{i})" if name != "followers" else f"#s{i} = :s{i}"
            )
        if first_ts is not None and last_ts is not None:
            names |= {"#ft": "first_ts", "#lt": "last_ts"}
            values |= {":ft": first_ts, ":lt": last_ts}
            set_parts += ["#ft = if_not_exists(#ft, :ft)", "#lt = :lt"]
        if updated_at is not None:
            names["#ua"], values[":ua"] = "updated_at", updated_at
            set_parts.append("#ua = :ua")
        expression = "SET " + ", ".join(set_parts) + (" ADD " + ", ".join(add_parts) if add_parts else "")
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {k: {"S": v} for k, v in key.items()},
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {k: _SERIALIZER.serialize(v) for k, v in values.items()},
            }
        }


def ingest_activities(
    store: IngestTableWriter, activities: list[Activity], delivery_id: str, now: int
) -> IngestStats:
    """Convenience wrapper used by the processor and the pull function."""
    return store.ingest(activities, delivery_id, now)
