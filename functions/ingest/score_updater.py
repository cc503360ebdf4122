"""Score updater Lambda (``functions.ingest.score_updater.handler``): DynamoDB stream of ``EDGES#``.

For every author whose edges changed in the batch (one update per author, however many records), it
recomputes the author's account score (``local_score``), folds it into the author's profile score
(per-network sub-scores add up), and writes the active ``SCORE`` item, ``SCORE#<version>`` and
today's ``HIST#<day>`` point. A failing author reports its records as batch item failures (Lambda
retries from the lowest failed sequence number; the update is idempotent: it recomputes from the
stored edges).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from functions.ingest.identity import profile_id_for
from functions.ingest.local_score import account_raw, params_for, to_score
from functions.shared import aws, keys
from functions.shared.observability import MetricUnit, logger, metrics
from functions.shared.records import HistoryPoint, ScoreRecord
from functions.shared.settings import get_settings


def active_version(table: Any) -> str:
    """Name of the active algorithm version (``ALGO / ACTIVE``), or the configured default."""
    item = table.get_item(Key={"PK": keys.ALGO_PK, "SK": keys.ACTIVE_SK}).get("Item")
    return str(item["version"]) if item and item.get("version") else get_settings().algorithm_version


def authors_of(event: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """``(network, author_id) -> [sequence numbers]`` of the ``EDGES#`` records in a stream event.

    Examples
    --------
    >>> change = {"Keys": {"PK": {"S": "EDGES#twitter#1"}}, "SequenceNumber": "7"}
    >>> authors_of({"Records": [{"dynamodb": change}]})
    {('twitter', '1'): ['7']}
    """
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record in event.get("Records") or []:
        change = record.get("dynamodb") or {}
        pk = ((change.get("Keys") or {}).get("PK") or {}).get("S", "")
        parts = pk.split("#", 2)
        if len(parts) == 3 and parts[0] == "EDGES":
            out[(parts[1], parts[2])].append(str(change.get("SequenceNumber", "")))
    return dict(out)


def update_author(table: Any, network: str, author_id: str, version: str, now: int) -> ScoreRecord:
    """Recompute one author's account score and fold it into its profile's score."""
    edges: list[dict[str, Any]] = []
    query: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(keys.edges_pk(network, author_id))}
    while True:
        page = table.query(**query)
        edges.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    weights, exponent = params_for(version)
    raw = account_raw(edges, now, weights, exponent)
    account = (
        table.get_item(Key={"PK": keys.account_pk(network, author_id), "SK": keys.META_SK}).get("Item") or {}
    )
    profile_id = str(account.get("profile_id") or profile_id_for(network, author_id))
    previous = table.get_item(Key={"PK": keys.profile_pk(profile_id), "SK": keys.SCORE_SK}).get("Item") or {}
    network_raw = {k: float(v) for k, v in (previous.get("network_raw") or {}).items()}
    network_raw[f"{network}#{author_id}"] = raw
    per_network: dict[str, float] = defaultdict(float)
    for name, value in network_raw.items():
        per_network[name.split("#", 1)[0]] += value
    total = sum(network_raw.values())
    score = to_score(total)
    old_score = float(previous.get("score", score))
    record = ScoreRecord(
        profile_id=profile_id,
        name=str(account.get("display_name") or account.get("handle") or profile_id),
        score=score,
        raw=total,
        algorithm_version=version,
        computed_at=now,
        day_change=round(score - old_score + float(previous.get("day_change", 0.0)), 3) if previous else 0.0,
        networks={n: to_score(v) for n, v in per_network.items()},
        signals={"provisional": 1.0},
        topics=list(previous.get("topics") or []),
        active=True,
    )
    item = record.to_item() | {"network_raw": {k: Decimal(format(v, ".15g")) for k, v in network_raw.items()}}
    table.put_item(Item=item)
    table.put_item(
        Item=record.model_copy(update={"active": False}).to_item() | {"network_raw": item["network_raw"]}
    )
    day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
    table.put_item(
        Item=HistoryPoint(profile_id=profile_id, day=day, score=score, algorithm_version=version).to_item()
    )
    return record


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: ``{"batchItemFailures": [...]}`` with the records of failed authors."""
    table = aws.table()
    now = int(time.time())
    version = active_version(table)
    failures: list[dict[str, str]] = []
    authors = authors_of(event)
    for (network, author_id), sequences in authors.items():
        try:
            update_author(table, network, author_id, version, now)
        except Exception:  # one author must not block the others; Lambda retries the failed records
            logger.exception("score update failed", extra={"network": network, "author": author_id})
            failures.extend({"itemIdentifier": s} for s in sequences)
    metrics.add_metric(
        name="ScoresUpdated",
        unit=MetricUnit.Count,
        value=len(authors) - len({f["itemIdentifier"] for f in failures}),
    )
    metrics.flush_metrics()
    return {"batchItemFailures": failures}
