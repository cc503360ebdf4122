"""What both score updaters read and write in the table: the batch's context, the accounts' ``RANK``
items, an author's engagement received, and the provisional score of a profile.

The Gauss-Seidel step of the earlier versions (``functions.ingest.score_updater``) and the integrity
rules (``functions.ingest.integrity_update``) share these; the score updater picks one per batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from boto3.dynamodb.conditions import Key

from core.calibration import CalibrationTable, apply_calibration
from core.provisional import new_account_passing
from core.versions import AlgorithmParams
from functions.ingest import incremental as inc
from functions.shared import keys
from functions.shared.keys import AccountKey
from functions.shared.rank_state import BASE_PREFIX, NOW_PREFIX
from functions.shared.records import ScoreRecord, _to_dynamo
from functions.shared.score_record import history_point, score_record
from functions.shared.table import batch_get


def rank_key(network: str, account: str, version: str) -> dict[str, str]:
    return {"PK": keys.account_pk(network, account), "SK": keys.rank_sk(version)}


def set_state(
    table: Any,
    key: dict[str, str],
    fields: dict[str, float],
    created: dict[str, float],
    pairs: dict[str, tuple[float, float]] | None = None,
) -> None:
    """One ``UpdateItem``: ``fields`` set, ``created`` set only if absent, pair counts noted."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts: list[str] = []
    for i, (name, value) in enumerate(fields.items()):
        names[f"#f{i}"], values[f":f{i}"] = name, value
        parts.append(f"#f{i} = :f{i}")
    for i, (name, value) in enumerate(created.items()):
        names[f"#c{i}"], values[f":c{i}"] = name, value
        parts.append(f"#c{i} = if_not_exists(#c{i}, :c{i})")
    for i, (author, (base, now)) in enumerate((pairs or {}).items()):
        names[f"#b{i}"], names[f"#n{i}"] = BASE_PREFIX + author, NOW_PREFIX + author
        values[f":b{i}"], values[f":n{i}"] = base, now
        parts += [f"#b{i} = if_not_exists(#b{i}, :b{i})", f"#n{i} = :n{i}"]
    table.update_item(
        Key=key,
        UpdateExpression="SET " + ", ".join(parts),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=_to_dynamo(values),
    )


@dataclass
class Context:
    """What one batch shares: the version, its parameters, calibration and population constants."""

    table: Any
    version: str
    params: AlgorithmParams
    calibration: CalibrationTable
    population: inc.Population
    now: float
    states: dict[AccountKey, inc.RankState] = field(default_factory=dict)
    writes: int = 0

    def load_states(self, accounts: list[AccountKey]) -> None:
        """Read the ``RANK`` items of accounts not known yet (missing ones get a teleport-only state)."""
        wanted = [a for a in dict.fromkeys(accounts) if a not in self.states]
        found: dict[AccountKey, inc.RankState] = {}
        for item in batch_get(self.table, [rank_key(n, a, self.version) for n, a in wanted]):
            _, network, account = item["PK"].split("#", 2)
            found[(network, account)] = inc.RankState.from_item(item)
        for key in wanted:
            self.states[key] = found.get(key) or self.fresh_state(0.0)

    def fresh_state(self, followers: float, created: float = math.nan) -> inc.RankState:
        """The state of an account the last full pass did not see (a teleport-only start; under the
        integrity rules no trust seed, relaying as established as its creation time makes it)."""
        tele = self.population.tele_for(followers, self.params)
        passing = 1.0
        if self.params.integrity is not None:
            passing = new_account_passing(created, self.now, self.population.timed, self.params)
        return inc.RankState(x=tele, tele=tele, s0=0.0, t0=self.population.t0, passing=passing, seeded=False)


def query_all(table: Any, **query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = table.query(**query)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def read_author(
    table: Any, network: str, author_id: str
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """An author account's engagement received (its ``EDGES#`` items), account META and COUNTERS."""
    edges = query_all(table, KeyConditionExpression=Key("PK").eq(keys.edges_pk(network, author_id)))
    meta = {
        item["SK"]: item
        for item in batch_get(
            table,
            [
                {"PK": keys.account_pk(network, author_id), "SK": keys.META_SK},
                {"PK": keys.account_pk(network, author_id), "SK": keys.COUNTERS_SK},
            ],
        )
    }
    return edges, meta.get(keys.META_SK, {}), meta.get(keys.COUNTERS_SK, {})


def write_score(
    ctx: Context,
    profile_id: str,
    raw: float,
    components: dict[str, float],
    per_network: dict[str, float],
    account: dict[str, Any],
    scored: tuple[float, dict[str, float]] | None = None,
) -> ScoreRecord:
    """Calibrate and write ``SCORE``, ``SCORE#<version>`` and ``HIST#<today>`` of one profile, marked
    ``provisional`` until the next full pass. ``scored`` (an integrity version's score and network
    scores, ``functions.ingest.integrity_update``) replaces the calibration of ``raw``; ``components``
    are then already in points."""
    table, version = ctx.table, ctx.version
    previous_item = table.get_item(Key={"PK": keys.profile_pk(profile_id), "SK": keys.SCORE_SK}).get("Item")
    previous = ScoreRecord.from_item(previous_item) if previous_item else None
    if scored is None:
        score = round(float(np.clip(apply_calibration(raw, ctx.calibration), 1.0, 100.0)), 2)
        share = score / raw if raw > 0 else 0.0
        networks = {n: float(apply_calibration(v, ctx.calibration)) for n, v in sorted(per_network.items())}
    else:
        score, share = round(float(np.clip(scored[0], 1.0, 100.0)), 2), 1.0
        networks = dict(sorted(scored[1].items()))
    record = score_record(
        profile_id=profile_id,
        name=(previous.name if previous and previous.name else "")
        or str(account.get("display_name") or account.get("handle") or profile_id),
        score=score,
        raw=raw,
        version=version,
        now=ctx.now,
        networks=networks,
        signals={n: v * share for n, v in components.items()},
        topics=list(previous.topics) if previous else [],
        style=dict(previous.style) if previous else {},
        previous_trend=list(previous.trend) if previous else [],
        active=True,
    ).model_copy(update={"provisional": True})
    with table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        batch.put_item(Item=record.to_item())
        batch.put_item(Item=record.model_copy(update={"active": False}).to_item())
        batch.put_item(Item=history_point(record, previous.algorithm_version if previous else None).to_item())
    ctx.writes += 3
    return record


def load_context(table: Any, version: str, now: float) -> Context | None:
    """The batch's shared context, or None when the version has no calibration table yet."""
    found = {
        item["SK"]: item
        for item in batch_get(
            table,
            [
                {"PK": keys.ALGO_PK, "SK": keys.version_sk(version)},
                {"PK": keys.ALGO_PK, "SK": keys.incr_sk(version)},
            ],
        )
    }
    record = found.get(keys.version_sk(version))
    if not record or not record.get("calibration"):
        return None
    calibration = CalibrationTable.from_dict(
        {k: [float(x) for x in v] if isinstance(v, list) else v for k, v in record["calibration"].items()}
    )
    stored = record.get("params")
    params = inc.load_params(version, stored if isinstance(stored, str) else None)
    pop_item = found.get(keys.incr_sk(version))
    population = (
        inc.Population(
            t0=float(pop_item["t0"]),
            tele_unit=float(pop_item["tele_unit"]),
            accounts=int(pop_item["accounts"]),
            cap=float(pop_item.get("cap", 1.0)),
            timed=bool(pop_item.get("timed", True)),
        )
        if pop_item
        else inc.Population.default(params, now)
    )
    return Context(table, version, params, calibration, population, now)
