"""Write a scoring result into the table: scores (active and per version), daily history points,
explanations and the version's record with its calibration table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np

from functions.rescore.graph_source import GraphSnapshot
from functions.shared.records import (
    ExplainRecord,
    HistoryPoint,
    ScoreRecord,
    TopicLeaderRecord,
    VersionRecord,
)

TREND_DAYS = 31


def day_of(timestamp: float) -> str:
    """``YYYY-MM-DD`` (UTC) of a unix time.

    Examples
    --------
    >>> day_of(0)
    '1970-01-01'
    """
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d")


def next_trend(previous: list[tuple[str, float]], day: str, score: float) -> list[tuple[str, float]]:
    """Append (or replace) today's point and keep the last ``TREND_DAYS`` days."""
    points = [(d, s) for d, s in previous if d < day]
    points.append((day, round(score, 2)))
    return points[-TREND_DAYS:]


def change_since(trend: list[tuple[str, float]], day: str, days: int) -> float:
    """Score now minus the score at the latest point at least ``days`` days before ``day``."""
    if not trend:
        return 0.0
    limit = (dt.date.fromisoformat(day) - dt.timedelta(days=days)).isoformat()
    earlier = [s for d, s in trend if d <= limit]
    if not earlier:
        return 0.0
    return round(trend[-1][1] - earlier[-1], 2)


def build_score_records(
    snapshot: GraphSnapshot,
    profile_ids: list[str],
    result: Any,
    version: str,
    now: float,
    active: bool,
    extras: dict[str, dict[str, Any]] | None = None,
) -> list[ScoreRecord]:
    """One ``ScoreRecord`` per profile from a ``core.scoring.ScoreResult``."""
    from core.calibration import bucket_name
    from core.types import NETWORKS

    day = day_of(now)
    extras = extras or {}
    records: list[ScoreRecord] = []
    signals = {name: np.asarray(values) for name, values in result.subscores.items()}
    network_scores = np.asarray(result.network_scores)
    for i, pid in enumerate(profile_ids):
        if pid.startswith("unlinked:"):
            continue
        score = float(np.clip(result.score[i], 1.0, 100.0))
        previous = snapshot.scores.get(pid)
        trend = next_trend(list(previous.trend) if previous else [], day, score)
        profile = snapshot.profiles.get(pid)
        records.append(
            ScoreRecord(
                profile_id=pid,
                name=profile.name if profile else pid,
                score=round(score, 2),
                raw=float(result.raw_profile[i]),
                bucket=bucket_name(score),
                algorithm_version=version,
                computed_at=int(now),
                day_change=change_since(trend, day, 1),
                week_change=change_since(trend, day, 7),
                month_change=change_since(trend, day, 30),
                networks={
                    NETWORKS[n]: round(float(network_scores[i, n]), 2)
                    for n in range(network_scores.shape[1])
                    if network_scores[i, n] > 0
                },
                signals={name: round(float(values[i]), 2) for name, values in signals.items()},
                topics=extras.get(pid, {}).get("topics", []),
                style=extras.get(pid, {}).get("style", {}),
                trend=trend,
                active=active,
            )
        )
    return records


def topic_leaders(records: list[ScoreRecord]) -> list[TopicLeaderRecord]:
    """Each profile's standing in each of its topics under the version (the topic leaderboards)."""
    return [
        TopicLeaderRecord(
            profile_id=r.profile_id,
            topic=t["slug"],
            algorithm_version=r.algorithm_version,
            topic_score=float(t["score"]),
            name=r.name,
            score=r.score,
        )
        for r in records
        for t in r.topics
    ]


def write_items(table: Any, items: Iterable[dict[str, Any]]) -> int:
    """Batched writes (25 per request, unprocessed items retried by boto3's batch writer)."""
    count = 0
    with table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for item in items:
            batch.put_item(Item=item)
            count += 1
    return count


def publish(
    table: Any,
    snapshot: GraphSnapshot,
    profile_ids: list[str],
    result: Any,
    version: str,
    now: float,
    activate: bool,
    explanations: dict[str, dict[str, Any]] | None = None,
    extras: dict[str, dict[str, Any]] | None = None,
) -> dict[str, int]:
    """Write every profile's score under ``version`` (and as the active score when ``activate``)."""
    shadow = build_score_records(snapshot, profile_ids, result, version, now, active=False, extras=extras)
    items: list[dict[str, Any]] = [r.to_item() for r in shadow]
    items += [leader.to_item() for leader in topic_leaders(shadow)]
    day = day_of(now)
    if activate:
        for record in shadow:
            previous = snapshot.scores.get(record.profile_id)
            changed = previous is not None and previous.algorithm_version != version
            items.append(record.model_copy(update={"active": True}).to_item())
            items.append(
                HistoryPoint(
                    profile_id=record.profile_id,
                    day=day,
                    score=record.score,
                    algorithm_version=version,
                    version_changed=changed,
                ).to_item()
            )
    for pid, explanation in (explanations or {}).items():
        items.append(
            ExplainRecord(profile_id=pid, algorithm_version=version, explanation=explanation).to_item()
        )
    written = write_items(table, items)
    return {"profiles": len(shadow), "items": written}


def version_record(result: Any, version: str, now: float, status: str) -> VersionRecord:
    return VersionRecord(
        version=version,
        status=status,
        params_digest=str(result.params_digest),
        calibration=result.calibration.to_dict(),
        created_at=int(now),
        activated_at=int(now) if status == "active" else None,
    )
