"""The one builder of a profile's score record (``SCORE`` / ``SCORE#<version>``) and the items that go
with it (history point, topic leaderboard entries). The rescoring workflow and the score updater both
write scores through it, so a record means the same whoever wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.calibration import bucket_name
from functions.shared.records import HistoryPoint, ScoreRecord, TopicLeaderRecord
from functions.shared.trend import change_since, day_of, next_trend


def score_record(
    *,
    profile_id: str,
    name: str,
    score: float,
    raw: float,
    version: str,
    now: float,
    networks: Mapping[str, float],
    signals: Mapping[str, float],
    topics: list[dict[str, Any]],
    style: dict[str, Any],
    previous_trend: Iterable[tuple[str, float]],
    active: bool,
) -> ScoreRecord:
    """A profile's score record at time ``now``.

    ``score`` is the calibrated score (1-100; its bucket is taken before rounding), ``networks`` and
    ``signals`` the per-network scores and the score's components (rounded to 2 decimals here),
    ``previous_trend`` the daily points before this one (the trend and day/week/month changes follow).

    Examples
    --------
    >>> r = score_record(profile_id="p1", name="Ada", score=42.123, raw=0.5, version="v1", now=86400 * 8,
    ...                  networks={"twitter": 42.123}, signals={"reach": 1.0}, topics=[], style={},
    ...                  previous_trend=[("1970-01-02", 40.0)], active=True)
    >>> r.score, r.week_change, r.trend
    (42.12, 2.12, [('1970-01-02', 40.0), ('1970-01-09', 42.12)])
    """
    day = day_of(now)
    trend = next_trend([(str(d), float(s)) for d, s in previous_trend], day, score)
    return ScoreRecord(
        profile_id=profile_id,
        name=name,
        score=round(score, 2),
        raw=raw,
        bucket=bucket_name(score),
        algorithm_version=version,
        computed_at=int(now),
        day_change=change_since(trend, day, 1),
        week_change=change_since(trend, day, 7),
        month_change=change_since(trend, day, 30),
        networks={n: round(float(v), 2) for n, v in networks.items()},
        signals={n: round(float(v), 2) for n, v in signals.items()},
        topics=topics,
        style=style,
        trend=trend,
        active=active,
    )


def history_point(record: ScoreRecord, previous_version: str | None) -> HistoryPoint:
    """Today's history point of a score; ``version_changed`` when the previous score had another version."""
    return HistoryPoint(
        profile_id=record.profile_id,
        day=day_of(record.computed_at),
        score=record.score,
        algorithm_version=record.algorithm_version,
        version_changed=previous_version is not None and previous_version != record.algorithm_version,
    )


def topic_leaders(records: Iterable[ScoreRecord]) -> list[TopicLeaderRecord]:
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
