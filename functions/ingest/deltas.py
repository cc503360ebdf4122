"""What a ``Plan`` adds to each aggregate item, in one shape that both writers use.

The webhook path turns every ``ItemDelta`` into the ``Update`` of a transaction (``ADD`` the counts,
``SET`` the descriptive attributes once); the bulk path (``backfill``) applies the same delta to the
item it read and puts the result. ``ItemDelta.apply`` computes exactly what DynamoDB computes for the
update, so both paths leave the same items behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from functions.ingest.aggregate import Plan
from functions.shared import keys

#: attributes ``SET`` on every update rather than ``if_not_exists`` (the latest value wins)
OVERWRITTEN = frozenset({"followers"})


def dec(value: float) -> Decimal:
    """A float as the ``Decimal`` DynamoDB stores (15 significant digits).

    Examples
    --------
    >>> dec(0.1 + 0.2)
    Decimal('0.3')
    """
    return Decimal(format(value, ".15g"))


@dataclass
class ItemDelta:
    """One aggregate item's change: ``adds`` are ``ADD``-ed, ``sets`` written once (``followers``
    always), ``first_ts``/``last_ts`` kept as the earliest and latest event, ``updated_at`` stamped."""

    key: dict[str, str]
    adds: dict[str, Any] = field(default_factory=dict)
    sets: dict[str, Any] = field(default_factory=dict)
    first_ts: int | None = None
    last_ts: int | None = None
    updated_at: int | None = None
    #: the accounts the item belongs to, ``(network, account id)``: it cannot exist before they do
    owners: tuple[tuple[str, str], ...] = ()

    @property
    def key_tuple(self) -> tuple[str, str]:
        return self.key["PK"], self.key["SK"]

    def apply(self, existing: dict[str, Any] | None) -> dict[str, Any]:
        """The item after this delta, from ``existing`` (plain values, ``Decimal`` numbers, or None).

        Examples
        --------
        >>> d = ItemDelta({"PK": "A", "SK": "B"}, adds={"c_like": 2}, sets={"network": "x"},
        ...               first_ts=5, last_ts=9, updated_at=10)
        >>> item = d.apply({"PK": "A", "SK": "B", "c_like": Decimal(1), "network": "x", "first_ts": 3,
        ...                 "last_ts": 4})
        >>> item["c_like"], item["first_ts"], item["last_ts"], item["updated_at"]
        (Decimal('3'), 3, 9, 10)
        """
        item: dict[str, Any] = dict(existing or {}) | dict(self.key)
        for name, value in self.sets.items():
            if name in OVERWRITTEN or name not in item:
                item[name] = value
        if self.first_ts is not None and self.last_ts is not None:
            item["first_ts"] = min(int(item.get("first_ts", self.first_ts)), self.first_ts)
            item["last_ts"] = max(int(item.get("last_ts", self.last_ts)), self.last_ts)
        if self.updated_at is not None:
            item["updated_at"] = self.updated_at
        for name, value in self.adds.items():
            item[name] = Decimal(item.get(name, 0)) + Decimal(value)
        return item


def item_deltas(work: Plan, now: int) -> list[ItemDelta]:
    """The deltas of a plan's edges, ``posts`` counters and topic evidence (follower counts are
    written apart: see ``store``).

    Examples
    --------
    >>> from functions.ingest.aggregate import plan
    >>> from functions.ingest.networks.base import AccountRef, Activity
    >>> acts = [Activity(network="t", kind="like", activity_id="l1", timestamp=1_704_067_200,
    ...                  actor=AccountRef(account_id="2"), target=AccountRef(account_id="1"))]
    >>> [d.key["SK"] for d in item_deltas(plan(acts), now=0)], item_deltas(plan(acts), 0)[0].adds
    (['ENGAGER#t#2'], {'c_like': 1, 'd_like': Decimal('1')})
    """
    out: list[ItemDelta] = []
    for (network, author, engager), edge in work.edges.items():
        adds = (
            {f"c_{k}": v for k, v in edge.counts.items()}
            | {f"d_{k}": dec(v) for k, v in edge.decayed.items()}
            | {f"t_{k}": v for k, v in edge.terms.items()}
        )
        sets: dict[str, Any] = {
            "network": network,
            "author_id": author,
            "engager_id": engager,
            # GSI2 (keys only): what the engager gave, for erasure on opt-out
            "GSI2PK": keys.gave_gsi2pk(network, engager),
            "GSI2SK": keys.edges_pk(network, author),
        }
        out.append(
            ItemDelta(
                {"PK": keys.edges_pk(network, author), "SK": keys.engager_sk(network, engager)},
                adds,
                sets,
                first_ts=edge.first_ts,
                last_ts=edge.last_ts,
                updated_at=now,
                owners=((network, author), (network, engager)),
            )
        )
    for (network, account), counter in work.counters.items():
        if counter.posts:
            out.append(
                ItemDelta(
                    {"PK": keys.account_pk(network, account), "SK": keys.COUNTERS_SK},
                    {"posts": counter.posts},
                    {"network": network, "account_id": account},
                    owners=((network, account),),
                )
            )
    for (network, account, term), delta in work.terms.items():
        adds = {k: v for k, v in (("posts", delta.posts), ("engagements", delta.engagements)) if v}
        out.append(
            ItemDelta(
                {"PK": keys.account_pk(network, account), "SK": f"TERM#{term}"},
                adds,
                {"network": network, "account_id": account, "term": term},
                owners=((network, account),),
            )
        )
    return out
