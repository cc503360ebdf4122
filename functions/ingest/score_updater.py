"""Score updater Lambda (``functions.ingest.score_updater.handler``): DynamoDB stream of ``EDGES#``.

Per batch (see ``functions.ingest.incremental`` for the model):

1. every changed edge ``engager -> author`` notes the pair's count before (``OldImage``, kept from the
   first change since the full pass) and now (``NewImage``) in the engager's ``RANK#<version>`` item,
   which gives the engager's current out-weight (one ``UpdateItem`` per distinct engager);
2. every changed author is recomputed once (however many records name it): its ``EDGES#`` partition,
   its engagers' ``RANK`` items, its own teleport share and posting volume give its raw influence and
   the rank it passes on (written back to its ``RANK`` item, so that later authors use it);
3. the author's profile raw is the sum over its linked accounts; the active version's calibration table
   (``ALGO / VERSION#<v>``) turns it into the 1-100 score; ``SCORE``, ``SCORE#<version>`` and
   ``HIST#<today>`` are written with the trend and day/week/month changes of the rescoring workflow,
   marked ``provisional`` until the next full pass;
4. every engager of the batch whose profile has no score yet is scored the same way, so every account
   that takes part in an engagement has a score at once.

Under an integrity version (v3) steps 2 and 3 apply the v3 rules to the author's in-neighbourhood with
the last pass's stored ranks, cap and table instead (``functions.ingest.integrity_update``).

Edges a backfill writes are left to the scoring pass that follows it (``from_backfill``): a backfill
imports a whole account's or network's history at once, which the incremental model (made for the
trickle of live engagements) would replay author by author, at several requests per record; until
that pass, the accounts a backfill created have the provisional score of a profile without
engagement.

A failing author reports its records as batch item failures (Lambda retries from the lowest failed
sequence number). Every write is a ``SET`` computed from stored state, so a retried batch gives the
same result.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer

from core.types import NETWORKS
from functions.ingest import incremental as inc
from functions.ingest import integrity_update
from functions.ingest.backfill import MARKER
from functions.ingest.identity import profile_id_for
from functions.ingest.updater_table import (
    AccountKey,
    Context,
    load_context,
    query_all,
    rank_key,
    read_author,
    set_state,
    write_score,
)
from functions.shared import aws, keys
from functions.shared.observability import MetricUnit, logger, metrics
from functions.shared.optout import opted_out
from functions.shared.records import ScoreRecord
from functions.shared.settings import get_settings
from functions.shared.table import batch_get

_DES = TypeDeserializer()


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


def from_backfill(record: dict[str, Any]) -> bool:
    """Is ``record`` a backfill's write of an aggregate item? A backfill adds its job to the item's
    ``backfills`` set (``functions.ingest.backfill.MARKER``); no other writer changes that set.

    Examples
    --------
    >>> marks = lambda *jobs: {"backfills": {"SS": list(jobs)}} if jobs else {}
    >>> from_backfill({"dynamodb": {"NewImage": marks("higgs")}})
    True
    >>> from_backfill({"dynamodb": {"OldImage": marks("higgs"), "NewImage": marks("higgs")}})
    False
    >>> from_backfill({"dynamodb": {"NewImage": marks()}})
    False
    """
    change = record.get("dynamodb") or {}

    def marks(name: str) -> set[str]:
        return set(((change.get(name) or {}).get(MARKER) or {}).get("SS") or ())

    return bool(marks("NewImage") - marks("OldImage"))


def _image(change: dict[str, Any], name: str) -> dict[str, Any] | None:
    image = change.get(name)
    return {k: _DES.deserialize(v) for k, v in image.items()} if image else None


@dataclass
class PairChange:
    old: dict[str, Any] | None  # the edge before the first change in the batch
    new: dict[str, Any] | None  # after the last one
    sequences: list[str] = field(default_factory=list)


def pair_changes(event: dict[str, Any]) -> dict[tuple[str, str, str], PairChange]:
    """``(network, engager, author) -> PairChange`` from the stream records, in stream order."""
    out: dict[tuple[str, str, str], PairChange] = {}
    for record in event.get("Records") or []:
        change = record.get("dynamodb") or {}
        pk = ((change.get("Keys") or {}).get("PK") or {}).get("S", "")
        sk = ((change.get("Keys") or {}).get("SK") or {}).get("S", "")
        p, s = pk.split("#", 2), sk.split("#", 2)
        if len(p) != 3 or p[0] != "EDGES" or len(s) != 3:
            continue
        key = (p[1], s[2], p[2])
        seq = str(change.get("SequenceNumber", ""))
        if key not in out:
            out[key] = PairChange(old=_image(change, "OldImage"), new=_image(change, "NewImage"))
        else:
            out[key].new = _image(change, "NewImage")
        out[key].sequences.append(seq)
    return out


def note_pairs(ctx: Context, changes: dict[tuple[str, str, str], PairChange]) -> dict[str, list[str]]:
    """Step 1: the engagers' changed pair counts. Returns failed sequence numbers per engager."""
    by_engager: dict[AccountKey, dict[str, PairChange]] = defaultdict(dict)
    for (network, engager, author), change in changes.items():
        by_engager[(network, engager)][author] = change
    ctx.load_states(list(by_engager))
    failed: dict[str, list[str]] = {}
    for (network, engager), pairs in by_engager.items():
        state = ctx.states[(network, engager)]
        noted: dict[str, tuple[float, float]] = {}
        for author, change in pairs.items():
            if author == engager:
                continue  # self-engagement is dropped by the core
            if change.new and float(change.new.get("updated_at", 0)) < state.t0:
                continue  # written before the full pass read the table: already in s0
            base = inc.pair_counts(change.old, ctx.params, state.t0, clamp=False)[0] if change.old else 0.0
            now = inc.pair_counts(change.new, ctx.params, state.t0, clamp=False)[0] if change.new else 0.0
            base = state.base.setdefault(author, base)
            state.current[author] = now
            noted[author] = (base, now)
        if not noted:
            continue
        try:
            set_state(
                ctx.table,
                rank_key(network, engager, ctx.version),
                {},
                {"x": state.x, "tele": state.tele, "s0": state.s0, "t0": state.t0, "passing": state.passing},
                noted,
            )
            ctx.writes += 1
        except Exception:
            logger.exception("engager state update failed", extra={"network": network, "engager": engager})
            failed[f"{network}#{engager}"] = [s for c in pairs.values() for s in c.sequences]
    return failed


def update_author(ctx: Context, network: str, author_id: str) -> ScoreRecord:
    """Step 2 and 3 for one author account: its new state, then its profile's score."""
    table, params, version = ctx.table, ctx.params, ctx.version
    edges, account, counters = read_author(table, network, author_id)
    followers = float(max(float(account.get("followers", 0)), float(counters.get("followers", 0))))
    ctx.load_states([(network, str(e["engager_id"])) for e in edges] + [(network, author_id)])
    me = ctx.states[(network, author_id)]
    if not me.seeded:  # no state stored: a teleport-only start with the account's followers
        fresh = ctx.fresh_state(followers)
        me = inc.RankState(fresh.x, fresh.tele, me.s0, me.t0, base=me.base, current=me.current, seeded=False)
    engagers = {str(e["engager_id"]): ctx.states[(network, str(e["engager_id"]))] for e in edges}
    engagers.pop(author_id, None)
    inflow, inflow_amp = inc.author_row(edges, engagers, params, ctx.now)
    vol = inc.volume(float(counters.get("posts", 0)), params)
    new = inc.author_state(me, inflow, inflow_amp, vol, params)
    ctx.states[(network, author_id)] = new
    set_state(
        table,
        rank_key(network, author_id, version),
        {"x": new.x, "raw": new.raw, "reach": new.reach, "amp": new.amp, "impact": new.impact},
        {"tele": new.tele, "s0": new.s0, "t0": new.t0, "passing": new.passing},
    )
    ctx.writes += 1

    profile_id = str(account.get("profile_id") or profile_id_for(network, author_id))
    links = query_all(
        table,
        KeyConditionExpression=Key("PK").eq(keys.profile_pk(profile_id)) & Key("SK").begins_with("LINK#"),
    )
    linked = {(str(i["network"]), str(i["account_id"])) for i in links} | {(network, author_id)}
    ctx.load_states(sorted(linked))
    raw = reach = amp = impact = 0.0
    per_network: dict[str, float] = defaultdict(float)
    for key in linked:
        state = ctx.states[key]
        raw, reach, amp, impact = raw + state.raw, reach + state.reach, amp + state.amp, impact + state.impact
        per_network[key[0]] += state.raw
    return write_score(
        ctx,
        profile_id,
        raw,
        {"reach": reach, "amplification": amp, "network_impact": impact},
        per_network,
        account,
    )


def update_batch(
    table: Any, event: dict[str, Any], version: str, now: float
) -> tuple[int, list[str], Context | None]:
    """The whole batch: ``(authors updated, failed sequence numbers, context)``."""
    authors = authors_of(event)
    ctx = load_context(table, version, now)
    if ctx is None:
        logger.warning(
            "no calibration table for the active version: scores wait for a full pass",
            extra={"version": version},
        )
        metrics.add_metric(name="ScoresWaitingForCalibration", unit=MetricUnit.Count, value=len(authors))
        return 0, [], None
    changes = pair_changes(event)
    # only the model's networks are scored: +K edges of old (``EDGES#renown#<profile>``) name profiles,
    # not accounts, and would make a profile of their own
    authors = {a: seqs for a, seqs in authors.items() if a[0] in NETWORKS}
    changes = {k: c for k, c in changes.items() if k[0] in NETWORKS}
    # an opt-out is final: nothing is written for a marked account, as author or as engager (the
    # REMOVE records of its erasure, and anything that slipped past the processor, end here)
    marked = opted_out(table, [*authors, *((n, e) for n, e, _ in changes)])
    if marked:
        metrics.add_metric(name="ScoreUpdatesDroppedOptOut", unit=MetricUnit.Count, value=len(marked))
        authors = {a: seqs for a, seqs in authors.items() if a not in marked}
        changes = {
            k: c for k, c in changes.items() if (k[0], k[1]) not in marked and (k[0], k[2]) not in marked
        }
    failed_engagers = note_pairs(ctx, changes)
    failures = [s for seqs in failed_engagers.values() for s in seqs]
    # the integrity rules (v3) score a profile from its in-neighbourhood with the full pass's stored
    # ranks, cap and table (core.provisional); the earlier versions take a local Gauss-Seidel step
    update = integrity_update.update_author if ctx.params.integrity is not None else update_author
    updated = 0
    for (network, author_id), sequences in authors.items():
        try:
            update(ctx, network, author_id)
            updated += 1
        except Exception:  # one author must not block the others; Lambda retries the failed records
            logger.exception("score update failed", extra={"network": network, "author": author_id})
            failures.extend(sequences)
    # every account the service has ingested has a score at once: engagers never scored get theirs
    engagers: dict[AccountKey, list[str]] = defaultdict(list)
    for (n, e, _), change in changes.items():
        if (n, e) not in authors:
            engagers[(n, e)].extend(change.sequences)
    for network, account_id in unscored(ctx, list(engagers)):
        try:
            update(ctx, network, account_id)
            updated += 1
        except Exception:
            logger.exception("score update failed", extra={"network": network, "engager": account_id})
            failures.extend(engagers[(network, account_id)])
    return updated, sorted(set(failures)), ctx


def unscored(ctx: Context, accounts: list[AccountKey]) -> list[AccountKey]:
    """The accounts whose profile has no active score yet (two batched reads)."""
    if not accounts:
        return []
    metas = batch_get(ctx.table, [{"PK": keys.account_pk(n, a), "SK": keys.META_SK} for n, a in accounts])
    profile_of: dict[AccountKey, str] = {
        (str(m["network"]), str(m["account_id"])): str(m["profile_id"]) for m in metas if m.get("profile_id")
    }
    for key in accounts:
        profile_of.setdefault(key, profile_id_for(*key))
    scores = batch_get(
        ctx.table, [{"PK": keys.profile_pk(p), "SK": keys.SCORE_SK} for p in set(profile_of.values())]
    )
    scored = {str(item["PK"]) for item in scores}
    return sorted(k for k, p in profile_of.items() if keys.profile_pk(p) not in scored)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: ``{"batchItemFailures": [...]}`` with the records of failed authors."""
    table = aws.table()
    records = event.get("Records") or []
    live = [r for r in records if not from_backfill(r)]
    if len(live) < len(records):
        metrics.add_metric(
            name="BackfillEdgesLeftToPass", unit=MetricUnit.Count, value=len(records) - len(live)
        )
    if not live:
        metrics.flush_metrics()
        return {"batchItemFailures": []}
    updated, failures, ctx = update_batch(
        table, {**event, "Records": live}, active_version(table), time.time()
    )
    metrics.add_metric(name="ScoresUpdated", unit=MetricUnit.Count, value=updated)
    if ctx is not None:
        metrics.add_metric(name="ScoreUpdaterWrites", unit=MetricUnit.Count, value=ctx.writes)
    metrics.flush_metrics()
    return {"batchItemFailures": [{"itemIdentifier": s} for s in failures]}
