"""Daily trend of a score: the day of a time, the last ``TREND_DAYS`` daily points, changes over days.

Used by both writers of scores: the rescoring workflow and the score updater.
"""

from __future__ import annotations

import datetime as dt

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
    """Append (or replace) today's point and keep the last ``TREND_DAYS`` days.

    Examples
    --------
    >>> next_trend([("2025-01-01", 10.0), ("2025-01-02", 11.0)], "2025-01-02", 12.345)
    [('2025-01-01', 10.0), ('2025-01-02', 12.35)]
    """
    points = [(d, s) for d, s in previous if d < day]
    points.append((day, round(score, 2)))
    return points[-TREND_DAYS:]


def change_since(trend: list[tuple[str, float]], day: str, days: int) -> float:
    """Score now minus the score at the latest point at least ``days`` days before ``day``.

    Examples
    --------
    >>> change_since([("2025-01-01", 10.0), ("2025-01-08", 12.5)], "2025-01-08", 7)
    2.5
    """
    if not trend:
        return 0.0
    limit = (dt.date.fromisoformat(day) - dt.timedelta(days=days)).isoformat()
    earlier = [s for d, s in trend if d <= limit]
    if not earlier:
        return 0.0
    return round(trend[-1][1] - earlier[-1], 2)
