"""What the routes do, apart from HTTP: turn store reads into response models and enforce the rules
(404 for unknown or erased profiles, endorsement limits, perk eligibility, opt-out).

(Over 500 lines: one function per route, each short; the rules they share, such as the opt-out and
the erased profile's 404, are then written once.)
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.api import models as m
from functions.api.deps import Caches, day_of, owner_token_problem
from functions.api.problems import Problem
from functions.api.store import ApiTable, EndorsementRejected, LinkConflict, ProfileState
from functions.shared import keys
from functions.shared.records import (
    AccountRecord,
    EndorsementRecord,
    LinkRecord,
    ProfileRecord,
    ScoreRecord,
)
from functions.shared.settings import NETWORKS, Settings

ENDORSEMENTS_PER_DAY = 5
RECIPROCAL_WINDOW_DAYS = 30
RECIPROCAL_DISCOUNT = 0.25
MIN_ENDORSEMENT_WEIGHT = 0.05


def _days_before(day: str, n: int) -> str:
    return (datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC) - timedelta(days=n)).strftime("%Y-%m-%d")


def score_record(store: ApiTable, profile_id: str, version: str | None = None) -> ScoreRecord:
    """The stored score of a profile (one GetItem), or a 404 problem.

    Examples
    --------
    >>> score_record(store, "p1").score  # doctest: +SKIP
    63.2
    """
    rec = store.get_score(profile_id, version)
    if rec is None:
        if version is not None and store.get_score(profile_id) is not None:
            raise Problem("version-not-found", f"profile {profile_id} has no score under {version}")
        rec = unengaged_score(store, profile_id) if version is None else None
        if rec is None:
            raise not_found(store, profile_id)
    return rec


def read_unengaged(table: dict[str, list[float]], followers: float) -> float | None:
    """The score of a profile without engagement off a version's published table (linear in
    ``log1p(followers)`` between knots, constant beyond them); None without a table.

    Examples
    --------
    >>> read_unengaged({"followers": [0.0, 9.0], "scores": [14.0, 16.0]}, 2.1622776601683795)
    15.0
    >>> read_unengaged({}, 10) is None
    True
    """
    knots, scores = table.get("followers") or [], table.get("scores") or []
    if not knots or len(knots) != len(scores):
        return None
    x = math.log1p(max(float(followers), 0.0))
    xs = [math.log1p(k) for k in knots]
    if x <= xs[0]:
        return scores[0]
    for i in range(1, len(xs)):
        if x <= xs[i]:
            t = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
            return scores[i - 1] + t * (scores[i] - scores[i - 1])
    return scores[-1]


def unengaged_score(store: ApiTable, profile_id: str) -> ScoreRecord | None:
    """The provisional score of a profile the service has ingested but no pass has scored yet (first
    seen after the last full pass, and neither engaged nor engaging since): the score the active
    version gives a profile without engagement, read off its published table by the profile's largest
    follower count. None when the profile does not exist, opted out, or the version publishes no table.

    Examples
    --------
    >>> unengaged_score(store, "p9").provisional  # doctest: +SKIP
    True
    """
    meta, links, _ = store.get_profile_view(profile_id)
    version = store.active_version()
    if meta is None or meta.opted_out or not links or version is None:
        return None
    table = store.unengaged_table(version)
    if not table or store.opted_out([(lk.network, lk.account_id) for lk in links]):
        return None
    accounts = [store.account_by_id(lk.network, lk.account_id) for lk in links]
    followers = max((a.followers for a in accounts if a is not None), default=0)
    score = read_unengaged(table, followers)
    if score is None:
        return None
    return ScoreRecord(
        profile_id=profile_id,
        name=meta.name,
        score=round(score, 2),
        bucket="emerging" if score < 20.0 else "active",
        algorithm_version=version,
        computed_at=int(meta.created_at),
        provisional=True,
    )


def not_found(store: ApiTable, profile_id: str) -> Problem:
    """The problem for a profile without a score: 308 ``profile-merged`` when it was merged into
    another (one GetItem, only on this miss path), else 404 ``profile-not-found``.

    Examples
    --------
    >>> not_found(store, "p1").slug  # doctest: +SKIP
    'profile-not-found'
    """
    merged_into = store.merged_into(profile_id)
    if merged_into:
        return Problem.profile_merged(profile_id, merged_into)
    return Problem("profile-not-found", f"no profile {profile_id}")


def profile(store: ApiTable, profile_id: str) -> m.Profile:
    """Name, linked accounts and score summary of a profile (one Query).

    Examples
    --------
    >>> profile(store, "p1").name  # doctest: +SKIP
    'Ada Lovelace'
    """
    meta, links, score = store.get_profile_view(profile_id)
    if meta is None or meta.opted_out:
        raise Problem("profile-not-found", f"no profile {profile_id}")
    if not links and score is None:  # a merged profile has neither (one more GetItem, only then)
        merged_into = store.merged_into(profile_id)
        if merged_into:
            raise Problem.profile_merged(profile_id, merged_into)
    out = m.Profile(
        profile_id=meta.profile_id,
        name=meta.name,
        accounts=[
            m.LinkedAccount(network=lk.network, account_id=lk.account_id, handle=lk.handle) for lk in links
        ],
    )
    if score is None and links:
        score = unengaged_score(store, profile_id)
    if score is not None:
        out.score = score.score
        out.bucket = score.bucket
        out.algorithm_version = score.algorithm_version
        out.provisional = score.provisional
        out.changes = m.ScoreChanges.model_validate(score.model_dump())
        out.topics = [m.Topic.model_validate(t) for t in score.topics[:5]]
        out.style = m.Style.model_validate(score.style) if score.style else None
    return out


def identity(
    store: ApiTable, network: str, *, handle: str | None = None, account_id: str | None = None
) -> m.Identity:
    """Resolve a network handle (GSI1) or account id (GetItem) to its profile.

    Examples
    --------
    >>> identity(store, "twitter", handle="ada").profile_id  # doctest: +SKIP
    'p1'
    """
    if handle is not None:
        acct = store.account_by_handle(network, handle)
    else:
        acct = store.account_by_id(network, account_id or "")
    if acct is None:
        raise Problem(
            "account-not-found", f"no {network} account {handle or account_id} is linked to a profile"
        )
    return m.Identity(
        profile_id=acct.profile_id, network=acct.network, account_id=acct.account_id, handle=acct.handle
    )


def _attribution(store: ApiTable, rec: ScoreRecord, today: str) -> m.ChangeAttribution | None:
    points = store.history(rec.profile_id, _days_before(today, 90), today)
    release = next(
        (
            i
            for i in range(len(points) - 1, 0, -1)
            if points[i].version_changed and points[i].algorithm_version == rec.algorithm_version
        ),
        None,
    )
    if release is None:
        return None
    before = points[release - 1]
    if before.algorithm_version == rec.algorithm_version:
        return None
    previous = store.get_score(rec.profile_id, before.algorithm_version)
    if previous is None:
        return None
    algorithm = rec.score - previous.score
    activity = previous.score - before.score
    return m.ChangeAttribution(
        previous_version=before.algorithm_version,
        released_on=points[release].day,
        baseline_score=before.score,
        previous_version_score=previous.score,
        total=round(algorithm + activity, 6),
        algorithm=round(algorithm, 6),
        activity=round(activity, 6),
    )


def explain(store: ApiTable, profile_id: str, version: str | None, now: float) -> m.Explanation:
    """The contributions behind a score and, after a release, the split of the change.

    The split compares today's score under the current version with today's score under the previous
    version (``SCORE#<previous>``, kept while shadowing) and with the last score before the release:
    ``algorithm = current - previous_today`` and ``activity = previous_today - baseline``.

    Examples
    --------
    >>> explain(store, "p1", None, now=0).networks  # doctest: +SKIP
    {'twitter': {'contribution': 40.0}}
    """
    rec = score_record(store, profile_id, version)
    stored = store.get_explain(profile_id, rec.algorithm_version)
    data: dict[str, Any] = dict(stored.explanation) if stored else {}
    known = {"networks", "signals", "top_engagers", "decay"}
    other = {k: v for k, v in data.items() if k not in known | {"influencers", "influencees"}}
    engagers = _without_opted_out(store, list(data.get("top_engagers") or []))
    return m.Explanation(
        profile_id=profile_id,
        algorithm_version=rec.algorithm_version,
        score=rec.score,
        networks=data.get("networks") or {},
        signals=data.get("signals") or {},
        top_engagers=engagers,
        decay=data.get("decay") or {},
        other=other,
        change_attribution=_attribution(store, rec, day_of(now)) if version is None else None,
    )


def history(store: ApiTable, profile_id: str, days: int, now: float) -> m.History:
    """Daily points over the last ``days`` days, marked where the algorithm version changed.

    Examples
    --------
    >>> len(history(store, "p1", 30, now=0).points)  # doctest: +SKIP
    30
    """
    today = day_of(now)
    points = store.history(profile_id, _days_before(today, days - 1), today)
    if not points and store.get_score(profile_id) is None:
        raise not_found(store, profile_id)
    out = []
    previous: str | None = None
    for p in points:
        changed = p.version_changed or (previous is not None and p.algorithm_version != previous)
        out.append(
            m.HistoryPoint(
                day=p.day, score=p.score, algorithm_version=p.algorithm_version, version_changed=changed
            )
        )
        previous = p.algorithm_version
    return m.History(profile_id=profile_id, days=days, points=out)


def _without_opted_out(store: ApiTable, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    accounts = [
        (str(e["network"]), str(e["account_id"])) for e in entries if e.get("network") and e.get("account_id")
    ]
    gone = store.opted_out(accounts) if accounts else set()
    return [e for e in entries if (str(e.get("network")), str(e.get("account_id"))) not in gone]


def influence(store: ApiTable, profile_id: str) -> m.Influence:
    """Influencers and influencees with their interactions, from the stored explanation, without
    anyone who opted out.

    Examples
    --------
    >>> influence(store, "p1").influencers[0].interactions  # doctest: +SKIP
    {'like': 3}
    """
    rec = score_record(store, profile_id)
    stored = store.get_explain(profile_id, rec.algorithm_version)
    data = stored.explanation if stored else {}
    lists = [_without_opted_out(store, list(data.get(name) or [])) for name in ("influencers", "influencees")]
    return m.Influence(
        profile_id=profile_id,
        algorithm_version=rec.algorithm_version,
        influencers=[m.InfluenceLink.model_validate(e) for e in lists[0]],
        influencees=[m.InfluenceLink.model_validate(e) for e in lists[1]],
    )


def compare(store: ApiTable, ids: list[str]) -> m.Compare:
    """Scores of several profiles (one BatchGetItem); 404 when any is unknown.

    Examples
    --------
    >>> [s.profile_id for s in compare(store, ["p1", "p2"]).scores]  # doctest: +SKIP
    ['p1', 'p2']
    """
    found = store.get_scores(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise Problem("profile-not-found", f"no profile {', '.join(missing)}")
    return m.Compare(scores=[m.Score.from_record(found[i]) for i in ids])


def search(store: ApiTable, query: str, limit: int) -> m.SearchResult:
    """Profiles whose name starts with ``query`` (GSI1 ``NAME#<2 letters>``) and, when ``query`` can be
    a handle, the profiles of the accounts with exactly that handle on any network (GSI1
    ``HANDLE#<network>#<handle>``, one Query per network), handle matches first; with their scores.

    Examples
    --------
    >>> search(store, "ada", 10).hits[0].name  # doctest: +SKIP
    'Ada Lovelace'
    >>> search(store, "@grace", 10).hits[0].handle  # doctest: +SKIP
    'grace'
    """
    handle = query.strip().lstrip("@").lower()
    by_handle: dict[str, AccountRecord] = {}
    if handle and not any(c.isspace() for c in handle):
        for network in NETWORKS:
            account = store.account_by_handle(network, handle)
            if account is not None:
                by_handle.setdefault(account.profile_id, account)
    profiles = store.search_profiles(query, limit)
    names = {p.profile_id: p.name for p in profiles}
    ids = list(dict.fromkeys([*by_handle, *names]))[:limit]
    for profile_id in [i for i in ids if i not in names]:  # a handle match: its profile's name
        meta = store.get_profile_view(profile_id)[0]
        if meta is not None and not meta.opted_out:
            names[profile_id] = meta.name
    ids = [i for i in ids if i in names]
    scores = store.get_scores(ids) if ids else {}
    hits = []
    for profile_id in ids:
        account = by_handle.get(profile_id)
        hits.append(
            m.SearchHit(
                profile_id=profile_id,
                name=names[profile_id],
                score=scores[profile_id].score if profile_id in scores else None,
                network=account.network if account else None,
                handle=account.handle if account else None,
            )
        )
    return m.SearchResult(query=query, hits=hits)


def leaders(store: ApiTable, topic: str, version: str | None, limit: int) -> m.Leaders:
    """The top profiles of a topic under the active (or given) version.

    Examples
    --------
    >>> leaders(store, "data-science", None, 10).leaders[0].rank  # doctest: +SKIP
    1
    """
    version = version or store.active_version()
    if version is None:
        raise Problem("version-not-found", "no algorithm version is active yet")
    rows = store.topic_leaders(topic, version, limit)
    return m.Leaders(
        topic=topic,
        algorithm_version=version,
        leaders=[
            m.Leader(
                rank=i + 1, profile_id=r.profile_id, name=r.name, topic_score=r.topic_score, score=r.score
            )
            for i, r in enumerate(rows)
        ],
    )


def endorse(store: ApiTable, profile_id: str, body: m.EndorsementIn, now: float) -> m.Endorsement:
    """Give a +K: weighted by the giver's score, discounted when the receiver endorsed the giver in the
    last 30 days, at most ``ENDORSEMENTS_PER_DAY`` per giver and one per receiver, topic and day.

    Examples
    --------
    >>> body = m.EndorsementIn(giver_profile_id="p1", topic="python")
    >>> endorse(store, "p2", body, now=0).weight  # doctest: +SKIP
    0.63
    """
    if body.giver_profile_id == profile_id:
        raise Problem("validation-error", "a profile cannot endorse itself")
    score_record(store, profile_id)
    giver = store.get_score(body.giver_profile_id)
    if giver is None:
        raise Problem("profile-not-found", f"no profile {body.giver_profile_id}")
    receiver_acct, giver_acct = endorsement_accounts(store, profile_id, body.giver_profile_id)
    day = day_of(now)
    reciprocal = store.endorsed_by(
        body.giver_profile_id, profile_id, _days_before(day, RECIPROCAL_WINDOW_DAYS)
    )
    weight = max(MIN_ENDORSEMENT_WEIGHT, giver.score / 100.0) * (RECIPROCAL_DISCOUNT if reciprocal else 1.0)
    rec = EndorsementRecord(
        profile_id=profile_id,
        giver_profile_id=body.giver_profile_id,
        topic=body.topic,
        day=day,
        weight=round(weight, 6),
        reciprocal=reciprocal,
        created_at=int(now),
        network=receiver_acct.network,
        account_id=receiver_acct.account_id,
        giver_account_id=giver_acct.account_id,
    )
    try:
        remaining = store.add_endorsement(rec, ENDORSEMENTS_PER_DAY, int(now))
    except EndorsementRejected as exc:
        if exc.reason == "daily-limit":
            raise Problem(
                "endorsement-limit", f"at most {ENDORSEMENTS_PER_DAY} endorsements per day"
            ) from None
        raise Problem(
            "already-endorsed", f"{body.giver_profile_id} already endorsed {profile_id} in {body.topic} today"
        ) from None
    return m.Endorsement(
        profile_id=profile_id,
        giver_profile_id=body.giver_profile_id,
        topic=body.topic,
        day=day,
        weight=rec.weight,
        reciprocal=reciprocal,
        remaining_today=remaining,
        network=rec.network,
        account_id=rec.account_id,
        giver_account_id=rec.giver_account_id,
    )


def endorsement_accounts(
    store: ApiTable, profile_id: str, giver_profile_id: str
) -> tuple[LinkRecord, LinkRecord]:
    """The two accounts a +K joins: the receiver's and the giver's linked accounts on the first network
    both are on (``settings.NETWORKS`` order, as the core's, then the lowest account id), so that the
    endorsement is an engagement like any other (it passes the giver's rank on that network). 404 when
    either person opted out (a marker on any of their accounts, or the profile's flag); 422
    ``no-shared-network`` when they share no network.

    Examples
    --------
    >>> endorsement_accounts(store, "p2", "p1")[0].network  # doctest: +SKIP
    'twitter'
    """
    people = {pid: store.profile_state(pid) for pid in (profile_id, giver_profile_id)}
    accounts = [(lk.network, lk.account_id) for state in people.values() for lk in state.links]
    gone = store.opted_out(accounts) if accounts else set()
    for pid, state in people.items():
        if (state.profile is not None and state.profile.opted_out) or any(
            (lk.network, lk.account_id) in gone for lk in state.links
        ):
            raise Problem("profile-not-found", f"no profile {pid}")
    order = {name: i for i, name in enumerate(NETWORKS)}

    def best(links: tuple[LinkRecord, ...], network: str) -> LinkRecord:
        return min((lk for lk in links if lk.network == network), key=lambda lk: lk.account_id)

    receiver, giver = people[profile_id].links, people[giver_profile_id].links
    shared = sorted(
        {lk.network for lk in receiver} & {lk.network for lk in giver} & set(order), key=order.__getitem__
    )
    if not shared:
        raise Problem(
            "no-shared-network",
            f"{giver_profile_id} and {profile_id} have no network in common: a +K is an engagement of the "
            "giver's account with the receiver's on a network both are on",
        )
    return best(receiver, shared[0]), best(giver, shared[0])


def perks_for(store: ApiTable, profile_id: str, now: float) -> m.Perks:
    """The live perks a profile qualifies for (score at least the minimum, topic among its topics).

    Examples
    --------
    >>> perks_for(store, "p1", now=0).perks  # doctest: +SKIP
    []
    """
    rec = score_record(store, profile_id)
    topics = {str(t.get("slug")) for t in rec.topics}
    perks = [
        m.Perk.model_validate(p.model_dump())
        for p in store.live_perks(int(now))
        if rec.score >= p.min_score and (p.topic is None or p.topic in topics)
    ]
    return m.Perks(profile_id=profile_id, score=rec.score, perks=perks)


def opt_out(store: ApiTable, caches: Caches, profile_id: str, now: float) -> m.OptOutResult:
    """Erase a person and mark their accounts so ingest drops them; purge the API's caches.

    Examples
    --------
    >>> opt_out(store, caches, "p1", now=0).erased_items  # doctest: +SKIP
    42
    """
    if store.get_profile(profile_id) is None:
        raise Problem("profile-not-found", f"no profile {profile_id}")
    merged_into = store.merged_into(profile_id)
    if merged_into:
        raise Problem.profile_merged(profile_id, merged_into)
    erased, links = store.erase_profile(profile_id, int(now))
    caches.purge_profile(profile_id)
    return m.OptOutResult(
        profile_id=profile_id,
        erased_items=erased,
        accounts_opted_out=[
            m.LinkedAccount(network=lk.network, account_id=lk.account_id, handle=lk.handle) for lk in links
        ],
    )


def export(store: ApiTable, profile_id: str) -> m.ProfileExport:
    """Everything stored about a person (right of access); 404 for an unknown or erased profile.

    Examples
    --------
    >>> export(store, "p1").profile[0]["SK"]  # doctest: +SKIP
    'EXPLAIN#v1'
    """
    if store.get_profile(profile_id) is None:
        raise Problem("profile-not-found", f"no profile {profile_id}")
    return m.ProfileExport(profile_id=profile_id, **store.export_profile(profile_id))


def opt_in(store: ApiTable, profile_id: str) -> m.OptInResult:
    """Opt back in: the markers go, the accounts are counted again from their next engagement (what
    was erased stays erased).

    Examples
    --------
    >>> opt_in(store, "p1").markers_removed  # doctest: +SKIP
    2
    """
    return m.OptInResult(profile_id=profile_id, markers_removed=store.opt_in(profile_id))


# --- account linking ------------------------------------------------------------------------------


def _linked(links: list[LinkRecord]) -> list[m.LinkedAccount]:
    ordered = sorted(links, key=lambda lk: (lk.network, lk.account_id))
    return [m.LinkedAccount(network=lk.network, account_id=lk.account_id, handle=lk.handle) for lk in ordered]


def _live_profile(store: ApiTable, profile_id: str) -> ProfileState:
    """The state of a profile that accepts links: 404 when absent or opted out, 308 when merged."""
    state = store.profile_state(profile_id)
    if state.profile is None or state.profile.opted_out:
        raise Problem("profile-not-found", f"no profile {profile_id}")
    if state.merged_into:
        raise Problem.profile_merged(profile_id, state.merged_into)
    return state


def _move(
    store: ApiTable,
    caches: Caches,
    account: AccountRecord,
    source: ProfileState,
    target: ProfileState,
    now: float,
    *,
    create_target: bool = False,
) -> m.MergedProfile | None:
    """Move the account in one transaction; merge the source when it is left without accounts."""
    merge_source = source.profile is not None and not source.without(account.network, account.account_id)
    try:
        store.move_account(
            account, source, target, int(now), merge_source=merge_source, create_target=create_target
        )
    except LinkConflict as exc:
        raise Problem(
            "link-conflict",
            f"{account.network} account {account.account_id} or profile {source.profile_id} / "
            f"{target.profile_id} changed concurrently ({exc}); read them again and retry",
        ) from None
    caches.purge_profile(source.profile_id)
    caches.purge_profile(target.profile_id)
    if not merge_source:
        return None
    store.drop_derived(source.profile_id)
    return m.MergedProfile(profile_id=source.profile_id, merged_into=target.profile_id)


def connect_account(
    store: ApiTable, caches: Caches, profile_id: str, body: m.ConnectAccountIn, settings: Settings, now: float
) -> m.AccountLinkResult:
    """Link a network account to ``profile_id`` (the caller already proved they own the profile):
    check the proof of the account (owner token of its current profile), then move it in one
    transaction; the profile it leaves is merged into ``profile_id`` when it has no accounts left.

    Examples
    --------
    >>> proof = m.AccountProof(account_owner_token="ot_...")
    >>> body = m.ConnectAccountIn(network="mastodon", account_id="m1", proof=proof)
    >>> connect_account(store, caches, "p2", body, settings, now=0).to_profile_id  # doctest: +SKIP
    'p2'
    """
    target = _live_profile(store, profile_id)
    account = store.account_by_id(body.network, body.account_id)
    if account is None:
        raise Problem("account-not-found", f"no {body.network} account {body.account_id}")
    # an opted-out person cannot be linked: neither their account nor a profile holding one of theirs
    wanted = (body.network, body.account_id)
    gone = store.opted_out([wanted, *((lk.network, lk.account_id) for lk in target.links)])
    if wanted in gone:
        raise Problem("account-not-found", f"no {body.network} account {body.account_id}")
    if gone:
        raise Problem("profile-not-found", f"no profile {profile_id}")
    refused = owner_token_problem(settings, store, account.profile_id, body.proof.account_owner_token, now)
    if refused is not None:
        raise Problem(
            "invalid-account-proof",
            f"proof.account_owner_token must be a live owner token of {account.profile_id}, "
            f"the profile {body.network} account {body.account_id} is linked to ({refused.slug})",
        )
    return link_account(store, caches, target, account, now)


def link_account(
    store: ApiTable, caches: Caches, target: ProfileState, account: AccountRecord, now: float
) -> m.AccountLinkResult:
    """Move a proven account to the live profile ``target`` (the proof is the caller's: an owner token
    of its current profile, or the account posting a one-time code); see :func:`connect_account`.

    Examples
    --------
    >>> link_account(store, caches, state, account, now=0).changed  # doctest: +SKIP
    True
    """
    profile_id = target.profile_id
    unchanged = m.AccountLinkResult(
        action="connected",
        changed=False,
        network=account.network,
        account_id=account.account_id,
        handle=account.handle,
        profile_id=profile_id,
        from_profile_id=account.profile_id,
        to_profile_id=profile_id,
        accounts=_linked(list(target.links)),
        score_effect="none: the account was already linked to this profile",
    )
    if account.profile_id == profile_id:
        return unchanged
    source = store.profile_state(account.profile_id)
    merged = _move(store, caches, account, source, target, now)
    link = LinkRecord(
        profile_id=profile_id, network=account.network, account_id=account.account_id, handle=account.handle
    )
    return unchanged.model_copy(
        update={
            "changed": True,
            "merged": merged,
            "accounts": _linked([*target.without(account.network, account.account_id), link]),
            "score_effect": (
                f"from the {m.EFFECTIVE} on, the account's engagement counts toward {profile_id} "
                f"instead of {account.profile_id}. A profile's raw influence is the sum of its accounts' "
                "raws, each >= 0 and independent of the linking, so linking can only raise this profile's "
                "score (under the same calibration table); the identity lookup answers the new profile now"
            ),
        }
    )


def disconnect_account(
    store: ApiTable, caches: Caches, profile_id: str, network: str, account_id: str, now: float
) -> m.AccountLinkResult:
    """Unlink an account from ``profile_id``: it goes back to its home profile (the one ingest made
    for it, ``keys.home_profile_id``), created or un-merged as needed, in one transaction.

    Examples
    --------
    >>> disconnect_account(store, caches, "p1", "mastodon", "m1", now=0).to_profile_id  # doctest: +SKIP
    'p5c0a...'
    """
    account = store.account_by_id(network, account_id)
    if account is None or account.profile_id != profile_id:
        raise Problem("account-not-found", f"no {network} account {account_id} is linked to {profile_id}")
    home_id = keys.home_profile_id(network, account_id)
    if home_id == profile_id:
        raise Problem(
            "home-account",
            f"{profile_id} is the profile of {network} account {account_id} itself: disconnect the other "
            "accounts instead (each goes back to its own profile)",
        )
    source = store.profile_state(profile_id)
    home = store.profile_state(home_id)
    create = home.profile is None
    if create:
        new = ProfileRecord(
            profile_id=home_id, name=account.display_name or account.handle, created_at=int(now)
        )
        home = replace(home, profile=new)
    merged = _move(store, caches, account, source, home, now, create_target=create)
    return m.AccountLinkResult(
        action="disconnected",
        changed=True,
        network=account.network,
        account_id=account.account_id,
        handle=account.handle,
        profile_id=profile_id,
        from_profile_id=profile_id,
        to_profile_id=home_id,
        merged=merged,
        accounts=_linked(source.without(network, account_id)),
        score_effect=(
            f"from the {m.EFFECTIVE} on, the account's engagement counts toward {home_id} instead of "
            f"{profile_id}, whose score can fall; the identity lookup answers {home_id} now"
        ),
    )
