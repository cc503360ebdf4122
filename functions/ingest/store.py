"""Writes one delivery's plan to the single table: accounts on first sight, standalone posts as
activities (TTL), edge aggregates, counters and topic evidence with ``UpdateItem ADD``.

Follower counts are written only when they moved by more than ``FOLLOWERS_LOG_STEP`` in
``log1p`` (what the score uses) from the last value this container knows to be stored.

Every ADD update also sets ``last_delivery`` under the condition that it differs from this delivery,
so a retry of a delivery that failed half-way (the idempotency record is released on failure) does
not add the same engagements twice to the items it already reached.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from functions.ingest.aggregate import Plan, plan
from functions.ingest.identity import AccountKey, Identity
from functions.ingest.networks.base import AccountRef, Activity
from functions.shared import keys
from functions.shared.records import ActivityRecord


@dataclass
class IngestStats:
    """What one delivery did (returned by the processor, stored as the idempotent result)."""

    activities: int = 0
    engagements: int = 0
    dropped_optout: int = 0
    new_accounts: int = 0
    engagement_posts: int = 0  # posts that are engagements: recorded by their edge only
    items_written: int = 0  # every item write, ~1 write unit each (all items are under 1 KB)
    skipped_retries: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


FOLLOWERS_LOG_STEP = 0.01  # about 1%: the teleport uses log1p(followers)


def _dec(value: float) -> Decimal:
    return Decimal(format(value, ".15g"))


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
        self.identity = Identity(table, client)
        self.ttl_s = activity_ttl_days * 86_400

    def ingest(self, activities: list[Activity], delivery_id: str, now: int) -> IngestStats:
        stats = IngestStats()
        refs: dict[AccountKey, AccountRef] = {}
        for act in activities:
            for ref in (act.actor, act.target):
                if ref is not None:  # the ref with the most followers (some events carry none)
                    known = refs.get((act.network, ref.account_id))
                    if known is None or (ref.followers or 0) > (known.followers or 0):
                        refs[(act.network, ref.account_id)] = ref
        opted_out, missing = self.identity.lookup(refs)
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
        stats.activities, stats.engagements = len(work.activities), work.engagements
        stats.engagement_posts = work.engagement_posts
        stats.items_written += self._activities(work)
        written, skipped = self._updates(work, delivery_id, now)
        stats.items_written += written
        stats.skipped_retries = skipped
        return stats

    def _activities(self, work: Plan) -> int:
        with self.table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
            for act in work.activities:
                record = ActivityRecord(
                    network=act.network,
                    account_id=act.actor.account_id,
                    activity_id=act.activity_id,
                    kind=act.kind,
                    timestamp=act.timestamp,
                    target_account_id=act.target.account_id if act.target else None,
                    post_id=act.post_id,
                    terms=list(act.terms),
                    expires_at=act.timestamp + self.ttl_s,
                )
                batch.put_item(Item=record.to_item())
        return len(work.activities)

    def _updates(self, work: Plan, delivery_id: str, now: int) -> tuple[int, int]:
        written = skipped = 0
        for (network, author, engager), edge in work.edges.items():
            adds = (
                {f"c_{k}": v for k, v in edge.counts.items()}
                | {f"d_{k}": _dec(v) for k, v in edge.decayed.items()}
                | {f"t_{k}": v for k, v in edge.terms.items()}
            )
            sets: dict[str, Any] = {"network": network, "author_id": author, "engager_id": engager}
            ok = self._add(
                {"PK": keys.edges_pk(network, author), "SK": keys.engager_sk(network, engager)},
                adds,
                sets,
                delivery_id,
                first_ts=edge.first_ts,
                last_ts=edge.last_ts,
                updated_at=now,
            )
            written, skipped = written + ok, skipped + (1 - ok)
        for (network, account), counter in work.counters.items():
            adds = {"posts": counter.posts} if counter.posts else {}
            sets = {"network": network, "account_id": account}
            followers = counter.followers
            known = self.identity.followers.get((network, account))
            if followers is not None and (
                known is None or abs(math.log1p(followers) - math.log1p(known)) > FOLLOWERS_LOG_STEP
            ):
                sets["followers"] = followers
            if not adds and "followers" not in sets:
                continue
            ok = self._add(
                {"PK": keys.account_pk(network, account), "SK": keys.COUNTERS_SK}, adds, sets, delivery_id
            )
            if "followers" in sets:
                self.identity.followers[(network, account)] = int(followers or 0)
            written, skipped = written + ok, skipped + (1 - ok)
        for (network, account, term), delta in work.terms.items():
            adds = {k: v for k, v in (("posts", delta.posts), ("engagements", delta.engagements)) if v}
            sets = {"network": network, "account_id": account, "term": term}
            ok = self._add(
                {"PK": keys.account_pk(network, account), "SK": f"TERM#{term}"}, adds, sets, delivery_id
            )
            written, skipped = written + ok, skipped + (1 - ok)
        return written, skipped

    def _add(
        self,
        key: dict[str, str],
        adds: dict[str, Any],
        sets: dict[str, Any],
        delivery_id: str,
        first_ts: int | None = None,
        last_ts: int | None = None,
        updated_at: int | None = None,
    ) -> int:
        names: dict[str, str] = {"#ld": "last_delivery"}
        values: dict[str, Any] = {":ld": delivery_id}
        add_parts, set_parts = [], ["#ld = :ld"]
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
        try:
            self.table.update_item(
                Key=key,
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ConditionExpression="attribute_not_exists(#ld) OR #ld <> :ld",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return 0
            raise
        return 1


def ingest_activities(
    store: IngestTableWriter, activities: list[Activity], delivery_id: str, now: int
) -> IngestStats:
    """Convenience wrapper used by the processor and the pull function."""
    return store.ingest(activities, delivery_id, now)
