"""Test data for the API: a few people, written through the shared storage records (the table itself
comes from ``template.yaml`` through ``tests.conftest.create_table``). Also used by the browser test and
``tests/api/measure.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from functions.shared import keys
from functions.shared.records import (
    AccountRecord,
    ExplainRecord,
    HistoryPoint,
    LinkRecord,
    ProfileRecord,
    ScoreRecord,
    TopicLeaderRecord,
)

NOW = 1_749_988_800  # 2025-06-15T12:00:00Z
TODAY = "2025-06-15"
_SER = TypeSerializer()


def put(client: Any, item: dict[str, Any], table: str = "renown") -> None:
    client.put_item(TableName=table, Item={k: _SER.serialize(v) for k, v in item.items()})


def day(offset: int) -> str:
    return (datetime.fromtimestamp(NOW, UTC) + timedelta(days=offset)).strftime("%Y-%m-%d")


PEOPLE = [
    # id, name, twitter id, handle, v2 score, v1 score
    ("p1", "Ada Lovelace", "1001", "ada", 63.2, 60.0),
    ("p2", "Alan Turing", "1002", "alan", 48.0, 47.0),
    ("p3", "Grace Hopper", "1003", "grace", 71.5, 70.0),
]


def seed(client: Any, table: str = "renown") -> None:
    """Write three people, with scores under v1 (previous) and v2 (active), history across the release
    (day -4 is the first v2 day), an explanation, topic leaders, and an extra mastodon account for p1."""
    put(client, {"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK, "version": "v2"}, table)
    for pid, name, acct, handle, s2, s1 in PEOPLE:
        records: list[Any] = [
            ProfileRecord(profile_id=pid, name=name, created_at=NOW - 90 * 86_400),
            AccountRecord(network="twitter", account_id=acct, profile_id=pid, handle=handle, followers=100),
            LinkRecord(profile_id=pid, network="twitter", account_id=acct, handle=handle),
        ]
        topics = [
            {"slug": "python", "name": "Python", "score": s2 + 5},
            {"slug": "mathematics", "name": "Mathematics", "score": s2 - 10},
        ]
        common = {
            "profile_id": pid,
            "name": name,
            "computed_at": NOW - 3600,
            "bucket": "40-70" if s2 < 70 else "70-100",
            "day_change": 0.4,
            "week_change": 3.2,
            "month_change": 5.1,
            "networks": {"twitter": s2, "mastodon": s2 / 2},
            "signals": {"reach": 0.5, "amplification": 0.3, "network_impact": 0.2},
            "topics": topics,
            "style": {"name": "Specialist", "axes": {"listening": 0.3, "focus": 0.8}},
        }
        records += [
            ScoreRecord(score=s2, algorithm_version="v2", active=True, **common),
            ScoreRecord(score=s2, algorithm_version="v2", active=False, **common),
            ScoreRecord(score=s1, algorithm_version="v1", active=False, **common),
            TopicLeaderRecord(
                profile_id=pid,
                topic="python",
                algorithm_version="v2",
                topic_score=s2 + 5,
                name=name,
                score=s2,
            ),
        ]
        for i in range(-40, 1):
            version = "v1" if i < -4 else "v2"
            value = s1 - 5 + (i + 40) * 0.1 if version == "v1" else s2 + i * 0.1
            records.append(
                HistoryPoint(
                    profile_id=pid,
                    day=day(i),
                    score=round(value, 3),
                    algorithm_version=version,
                    version_changed=i == -4,
                )
            )
        for rec in records:
            put(client, rec.to_item(), table)
    put(
        client,
        AccountRecord(
            network="mastodon", account_id="m1", profile_id="p1", handle="ada@hachyderm.io"
        ).to_item(),
        table,
    )
    put(
        client,
        LinkRecord(profile_id="p1", network="mastodon", account_id="m1", handle="ada@hachyderm.io").to_item(),
        table,
    )
    explanation = {
        "networks": {"twitter": {"contribution": 50.0}, "mastodon": {"contribution": 13.2}},
        "signals": {"reach": 31.6, "amplification": 18.96, "network_impact": 12.64},
        "top_engagers": [
            {"network": "twitter", "account_id": "1003", "handle": "grace", "weight": 0.4},
            {"network": "twitter", "account_id": "1002", "handle": "alan", "weight": 0.2},
        ],
        "decay": {"half_life_days": 30, "factor": 0.87},
        "influencers": [
            {
                "profile_id": "p3",
                "network": "twitter",
                "account_id": "1003",
                "handle": "grace",
                "weight": 0.4,
                "interactions": {"like": 12, "share": 3},
            },
        ],
        "influencees": [
            {
                "profile_id": "p2",
                "network": "twitter",
                "account_id": "1002",
                "handle": "alan",
                "weight": 0.25,
                "interactions": {"reply": 4},
            },
        ],
        "base": 1.0,
    }
    put(
        client,
        ExplainRecord(profile_id="p1", algorithm_version="v2", explanation=explanation).to_item(),
        table,
    )
