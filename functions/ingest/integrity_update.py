"""Provisional scores of an integrity version (v3) between full passes, one author at a time.

The score updater (``functions.ingest.score_updater``) calls :func:`update_author` for every author
whose engagement changed, and for every engager not scored yet, when the active version has the
integrity rules. It reads the author's neighbourhood from the table and hands it to the core
(:mod:`core.provisional`), which applies the rules of the full pass to it:

* ``EDGES#<net>#<author>``: the engagers and each pair's count now; the reverse pairs (the author
  engaging its engagers) by one batched read of ``EDGES#<net>#<engager> / ENGAGER#<net>#<author>``;
* each engager's ``RANK#<version>`` state as the full pass stored it (``x``: relayed rank in raw
  units, ``passing``: how established, ``s0``: out-weight before the mutual discount) plus the pairs
  the updater noted since; an engager the pass did not see relays as
  ``core.provisional.new_account_passing`` says (nothing, unless its creation time establishes it);
* ``ALGO / INCR#<version>``: the pass's contribution ``cap`` and ``timed``; ``VERSION#<version>``: the
  calibration table.

Engagers linked to the author's own profile are left out (the full pass drops same-person pairs). The
author's new relayed rank ``tele + inflow`` and its points are written back to its ``RANK`` item (later
authors use them); the profile's score sums its linked accounts' points and engagers, and is written
``provisional`` until the next full pass replaces it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
from boto3.dynamodb.conditions import Key

from core.provisional import account_points, profile_score
from functions.ingest import incremental as inc
from functions.ingest.identity import profile_id_for
from functions.ingest.updater_table import (
    AccountKey,
    Context,
    query_all,
    rank_key,
    read_author,
    set_state,
    write_score,
)
from functions.shared import keys
from functions.shared.records import ScoreRecord
from functions.shared.table import batch_get


def _float(value: Any, default: float = math.nan) -> float:
    return float(value) if value is not None else default


def update_author(ctx: Context, network: str, author_id: str) -> ScoreRecord:
    """Recompute one author account under the integrity rules, then its profile's score."""
    table, params = ctx.table, ctx.params
    edges, account, counters = read_author(table, network, author_id)
    profile_id = str(account.get("profile_id") or profile_id_for(network, author_id))
    links = query_all(
        table,
        KeyConditionExpression=Key("PK").eq(keys.profile_pk(profile_id)) & Key("SK").begins_with("LINK#"),
    )
    linked = {(str(i["network"]), str(i["account_id"])) for i in links} | {(network, author_id)}
    edges = [e for e in edges if (network, str(e["engager_id"])) not in linked]
    engager_ids = [str(e["engager_id"]) for e in edges]
    ctx.load_states([(network, e) for e in engager_ids] + [(network, author_id)])
    me = ctx.states[(network, author_id)]
    followers = max(_float(account.get("followers"), 0.0), _float(counters.get("followers"), 0.0))
    if not me.seeded:  # first seen after the pass: no trust seed, relays as its creation time says
        fresh = ctx.fresh_state(followers, _float(account.get("created")))
        me = inc.RankState(
            fresh.x,
            fresh.tele,
            me.s0,
            me.t0,
            passing=fresh.passing,
            base=me.base,
            current=me.current,
            seeded=False,
        )
    reverse_items = batch_get(
        table,
        [{"PK": keys.edges_pk(network, e), "SK": keys.engager_sk(network, author_id)} for e in engager_ids],
    )
    reverse_of = {str(item["author_id"]): inc.pair_counts(item, params, ctx.now)[0] for item in reverse_items}
    count = np.zeros(len(edges))
    amp = np.zeros(len(edges))
    x, passing, out_weight = np.zeros(len(edges)), np.zeros(len(edges)), np.zeros(len(edges))
    for i, edge in enumerate(edges):
        count[i], amp[i] = inc.pair_counts(edge, params, ctx.now)
        state = ctx.states[(network, engager_ids[i])]
        x[i], passing[i], out_weight[i] = state.x, state.passing, state.out_weight(params, ctx.now)
    reverse = np.array([reverse_of.get(e, 0.0) for e in engager_ids])
    posts = _float(counters.get("posts"), 0.0)
    points = account_points(count, reverse, amp, x, passing, out_weight, posts, params, ctx.population.cap)
    new = inc.RankState(
        x=me.tele + points.inflow,
        tele=me.tele,
        s0=me.s0,
        t0=me.t0,
        passing=me.passing,
        raw=points.raw,
        reach=0.0,
        amp=points.amplification,
        impact=points.network_impact,
        engagers=float(points.engagers),
        base=me.base,
        current=me.current,
        seeded=me.seeded,
    )
    ctx.states[(network, author_id)] = new
    set_state(
        table,
        rank_key(network, author_id, ctx.version),
        {
            "x": new.x,
            "raw": new.raw,
            "reach": 0.0,
            "amp": new.amp,
            "impact": new.impact,
            "engagers": new.engagers,
        },
        {"tele": new.tele, "s0": new.s0, "t0": new.t0, "passing": new.passing},
    )
    ctx.writes += 1
    return write_profile(ctx, profile_id, sorted(linked), account, followers)


def write_profile(
    ctx: Context, profile_id: str, linked: list[AccountKey], account: dict[str, Any], followers: float
) -> ScoreRecord:
    """The profile's provisional score from its linked accounts' stored points and engagers."""
    ctx.load_states(linked)
    others = [k for k in linked if k != (str(account.get("network", "")), str(account.get("account_id", "")))]
    for item in batch_get(ctx.table, [{"PK": keys.account_pk(n, a), "SK": keys.META_SK} for n, a in others]):
        followers = max(followers, _float(item.get("followers"), 0.0))
    raw = amp = impact = engagers = 0.0
    per_network: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for key in linked:
        state = ctx.states[key]
        raw, amp, impact = raw + state.raw, amp + state.amp, impact + state.impact
        engagers += state.engagers
        per_network[key[0]][0] += state.raw
        per_network[key[0]][1] += state.engagers
    score = profile_score(raw, int(engagers), followers, ctx.params, ctx.calibration)
    share = score / raw if raw > 0 else 0.0
    networks = {
        n: profile_score(r, int(e), followers, ctx.params, ctx.calibration)
        for n, (r, e) in per_network.items()
    }
    signals = {
        "reach": 0.0 if raw > 0 else score,
        "amplification": amp * share,
        "network_impact": impact * share,
    }
    return write_score(ctx, profile_id, raw, signals, {}, account, scored=(score, networks))
