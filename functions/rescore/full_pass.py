"""A full scoring pass over the table in one process: the path the workflow takes when the graph is
small enough for one task, and the pass the local stack runs after loading its demo data."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from functions.rescore.graph_source import GraphSnapshot, read_snapshot
from functions.rescore.publish import publish, version_record
from functions.shared import keys


@dataclass(frozen=True)
class PassSummary:
    version: str
    profiles: int
    accounts: int
    engagements: int
    iterations: int
    items_written: int
    read_s: float
    score_s: float
    write_s: float
    activated: bool
    top: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def score_snapshot(snapshot: GraphSnapshot, version: str, now: float) -> tuple[Any, Any, Any]:
    """Run the core on a snapshot; returns ``(result, engagements, accounts)``."""
    from core.scoring import score_population

    engagements, accounts = snapshot.to_core()
    result = score_population(engagements, accounts, version=version, now=now)
    return result, engagements, accounts


def explanations_for(
    result: Any, engagements: Any, accounts: Any, limit: int | None = None
) -> dict[str, Any]:
    """Explanations of every linked profile (or of the ``limit`` highest scores)."""
    import numpy as np

    from core.explain import explain

    order = np.argsort(-np.asarray(result.score), kind="stable")
    if limit is not None:
        order = order[:limit]
    out: dict[str, Any] = {}
    for index in order:
        pid = accounts.profile_ids[int(index)]
        if not pid.startswith("unlinked:"):
            out[pid] = explain(result, engagements, accounts, int(index))
    return out


def scored_extras(
    snapshot: GraphSnapshot, engagements: Any, accounts: Any, result: Any, version: str, now: float
) -> dict[str, dict[str, Any]]:
    """Style and scored topics of every profile (``profile_extras`` plus the new scores)."""
    from functions.rescore.profile_extras import profile_extras, scored_topics

    extras = profile_extras(snapshot, engagements, accounts, version, now)
    topics = scored_topics([extras[pid] for pid in accounts.profile_ids], result.score, version)
    return {
        pid: {"style": extras[pid].get("style", {}), "topics": topics[i]}
        for i, pid in enumerate(accounts.profile_ids)
    }


def run_full_pass(table: Any, version: str, now: float | None = None, activate: bool = True) -> PassSummary:
    """Read the graph, score it under ``version``, write the scores; ``activate`` makes them live."""
    now = time.time() if now is None else now
    t0 = time.perf_counter()
    snapshot = read_snapshot(table)
    t1 = time.perf_counter()
    result, engagements, accounts = score_snapshot(snapshot, version, now)
    explanations = explanations_for(result, engagements, accounts)
    extras = scored_extras(snapshot, engagements, accounts, result, version, now)
    t2 = time.perf_counter()
    written = publish(
        table,
        snapshot,
        accounts.profile_ids,
        result,
        version,
        now,
        activate=activate,
        explanations=explanations,
        extras=extras,
    )
    status = "active" if activate else "shadow"
    table.put_item(Item=version_record(result, version, now, status).to_item())
    if activate:
        table.put_item(Item={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK, "version": version, "since": int(now)})
    t3 = time.perf_counter()
    return PassSummary(
        version=version,
        profiles=written["profiles"],
        accounts=len(accounts.ids),
        engagements=len(engagements.src),
        iterations=int(result.iterations),
        items_written=written["items"],
        read_s=round(t1 - t0, 2),
        score_s=round(t2 - t1, 2),
        write_s=round(t3 - t2, 2),
        activated=activate,
        top=tuple(top_profiles(result, accounts)),
    )


def top_profiles(result: Any, accounts: Any, count: int = 10) -> list[str]:
    """Profile ids of the ``count`` highest scores (ties in profile order)."""
    import numpy as np

    order = np.argsort(-np.asarray(result.score), kind="stable")
    ids = [accounts.profile_ids[int(i)] for i in order[: count * 2]]
    return [pid for pid in ids if not pid.startswith("unlinked:")][:count]
