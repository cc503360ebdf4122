"""A small engagement graph written straight into the table as ingest would leave it."""

from __future__ import annotations

from typing import Any

import numpy as np

from functions.shared.records import (
    DECAY_EPOCH,
    DECAY_HALF_LIFE_S,
    AccountRecord,
    CountersRecord,
    EdgeRecord,
    ProfileRecord,
)

TYPES = ("like", "share", "mention", "reply")


def seed_items(
    profiles: int = 40, edges: int = 300, seed: int = 3, now: float = 1_750_000_000.0
) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    items: list[dict[str, Any]] = []
    accounts: list[tuple[str, str]] = []
    for i in range(profiles):
        pid = f"p{i:04d}"
        items.append(ProfileRecord(profile_id=pid, name=f"Person {i}", created_at=0).to_item())
        nets = ["twitter"] + (["mastodon"] if i % 5 == 0 else [])
        for net in nets:
            aid = f"{i}"
            accounts.append((net, aid))
            followers = int(rng.pareto(1.3) * 50)
            items.append(
                AccountRecord(
                    network=net, account_id=aid, profile_id=pid, handle=f"h{i}{net[0]}", followers=followers
                ).to_item()
            )
            items.append(
                CountersRecord(
                    network=net, account_id=aid, posts=int(rng.integers(1, 40)), followers=followers
                ).to_item()
            )
    pop = rng.pareto(1.1, size=len(accounts)) + 0.05
    seen: set[tuple[int, int]] = set()
    while len(seen) < edges:
        a = int(rng.choice(len(accounts), p=pop / pop.sum()))
        e = int(rng.integers(len(accounts)))
        if a == e or accounts[a][0] != accounts[e][0]:
            continue
        seen.add((a, e))
    for a, e in sorted(seen):
        net, author = accounts[a]
        _, engager = accounts[e]
        counts: dict[str, int] = {}
        decayed: dict[str, float] = {}
        for t in rng.choice(TYPES, size=int(rng.integers(1, 3)), replace=False):
            c = int(rng.integers(1, 4))
            ts = now - float(rng.uniform(0, 30)) * 86400
            counts[str(t)] = c
            decayed[str(t)] = c * 2 ** ((ts - DECAY_EPOCH) / DECAY_HALF_LIFE_S)
        items.append(
            EdgeRecord(
                network=net, author_id=author, engager_id=engager, counts=counts, decayed=decayed
            ).to_item()
        )
    return items


def write(table: Any, items: list[dict[str, Any]]) -> None:
    with table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for item in items:
            batch.put_item(Item=item)
