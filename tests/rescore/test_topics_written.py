"""Topics and style reach the written scores: topic evidence from ``TERM#`` items and the ``t_<term>``
counters of edges, through the snapshot, onto ``SCORE`` items and the topic leaderboards."""

from __future__ import annotations

from typing import Any

import pytest

from functions.rescore.profile_extras import topics_dir
from functions.shared import keys
from functions.shared.records import EdgeRecord, TopicEvidenceRecord
from tests.rescore.seed import seed_items, write
from tests.rescore.test_workflow_tasks import NOW, drive

pytestmark = pytest.mark.skipif(topics_dir() is None, reason="the Klout topic ontology is not found")


def evidence_items() -> list[dict[str, Any]]:
    """Account 1 posts about physics and draws 8 engagers; account 2 as many engagements from one fan."""
    items = [
        TopicEvidenceRecord(network="twitter", account_id=a, term="#physics", posts=4).to_item()
        for a in ("1", "2")
    ]
    for engager in range(10, 18):
        items.append(
            EdgeRecord(
                network="twitter",
                author_id="1",
                engager_id=str(engager),
                counts={"mention": 1},
                decayed={"mention": 1.0},
                terms={"#physics": 1},
            ).to_item()
        )
    items.append(
        EdgeRecord(
            network="twitter",
            author_id="2",
            engager_id="20",
            counts={"mention": 8},
            decayed={"mention": 8.0},
            terms={"#physics": 8},
        ).to_item()
    )
    return items


def item(table: Any, pk: str, sk: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = table.get_item(Key={"PK": pk, "SK": sk}).get("Item")
    return found


@pytest.mark.parametrize("solver", ["single", "distributed"])
def test_topics_and_style_are_written_with_the_scores(aws_env: Any, solver: str) -> None:
    items = seed_items() + evidence_items()
    write(aws_env, items)
    stored = {(i["PK"], i["SK"]): i for i in items}  # later writes replace earlier ones
    received = sum(
        int(v)
        for (pk, _), i in stored.items()
        if pk == keys.edges_pk("twitter", "1")
        for k, v in i.items()
        if k.startswith("c_")
    )
    drive({"version": "v1", "mode": "settle", "now": NOW, "solver": solver, "partitions": 3}, solver)
    one = item(aws_env, keys.profile_pk("p0001"), keys.SCORE_SK)
    two = item(aws_env, keys.profile_pk("p0002"), keys.SCORE_SK)
    assert one is not None and two is not None
    # 8 of the engagements account 1 received carried #physics: Physics and the topics above it,
    # each scored as the rank received through those posts (less than all the rank received)
    assert received > 8
    slugs = [t["slug"] for t in one["topics"]]
    assert slugs[0] == "physics" and "science" in slugs
    scores = {t["slug"]: int(t["score"]) for t in one["topics"]}
    assert 1 <= scores["science"] <= scores["physics"] <= float(one["score"])
    assert two["topics"] == []  # one devoted fan is not a topic
    assert one["style"]["name"] and set(one["style"]["axes"]) == {
        "listening_participating",
        "sharing_creating",
        "casual_consistent",
        "broad_focused",
    }
    leader = item(aws_env, keys.profile_pk("p0001"), keys.topic_leader_sk("v1", "physics"))
    assert leader is not None and leader["GSI1PK"] == keys.topic_gsi1pk("physics", "v1")
    assert float(leader["topic_score"]) == float(one["topics"][0]["score"])
    assert item(aws_env, keys.profile_pk("p0002"), keys.topic_leader_sk("v1", "physics")) is None
    shadow = item(aws_env, keys.profile_pk("p0001"), keys.score_sk("v1"))
    assert shadow is not None and shadow["topics"] == one["topics"]
