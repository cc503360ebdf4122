"""Topics and style of every profile, from the snapshot, with the core.

Both are known before the solve: style needs only the engagement rows, topics need the topic
evidence ingest keeps (``TERM#`` items for the posts carrying a term, ``t_<term>`` counters on the
edges for the engagements and engagers they drew) mapped onto the Klout topic ontology (CC BY 3.0) by
``core.topic_map.TopicMapper``. The snapshot step stores, per profile, its style and the *support* of
its topics (topic, share of the rank its posts received: each engagement weighs what its engager
passes on, ``(1 + engagement the engager received) / engagement the engager gave``, one step of the
rank); the write steps turn shares into topic scores: the calibrated score of the profile's raw
influence times the share (``core.topics.influence_topic_scores``), its influence in the topic.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.calibration import CalibrationTable
from core.style import style
from core.topic_map import TopicMapper
from core.topics import influence_topic_scores, score_topics, topic_support
from functions.rescore.graph_source import GraphSnapshot
from functions.shared.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY_FILE = "klout_topic_ontology_20180601.csv"


def topics_dir() -> Path | None:
    """Where the ontology is: ``RENOWN_TOPICS_DIR``, else the datasets folder beside the repository."""
    settings = get_settings()
    candidates = [settings.topics_dir, settings.datasets_dir and f"{settings.datasets_dir}/klout-topics"]
    candidates.append(str(ROOT.parent / "shared" / "datasets" / "klout-topics"))
    for candidate in candidates:
        if candidate and (Path(candidate) / ONTOLOGY_FILE).exists():
            return Path(candidate)
    return None


@lru_cache(maxsize=1)
def _mapper(path: str) -> TopicMapper:
    return TopicMapper.load(path)


def profile_extras(
    snapshot: GraphSnapshot, engagements: Any, accounts: Any, version: Any, now: float
) -> dict[str, dict[str, Any]]:
    """``{profile_id: {"style": {"name", "axes"}, "topic_support": [[slug, name, share], ...]}}``.

    ``engagements``/``accounts`` are ``snapshot.to_core()``. Topics are left out (empty support) when
    the ontology is not found.

    Examples
    --------
    >>> snap = GraphSnapshot()
    >>> eng, acc = snap.to_core()
    >>> profile_extras(snap, eng, acc, "v1", 0.0)
    {}
    """
    out: dict[str, dict[str, Any]] = {pid: {"topic_support": []} for pid in accounts.profile_ids}
    if not out:
        return out
    for pid, entry in zip(accounts.profile_ids, style(engagements, accounts, now=now), strict=True):
        out[pid]["style"] = {"name": entry["style"], "axes": entry["axes"]}
    folder = topics_dir()
    if folder is None or not snapshot.terms:
        return out
    # what one engagement of each account passes on: one step of the rank from uniform
    n = accounts.n_accounts
    received = np.bincount(engagements.dst, weights=engagements.weight, minlength=n)
    given = np.bincount(engagements.src, weights=engagements.weight, minlength=n)
    passes = (1.0 + received) / np.maximum(given, 1e-12)
    evidence = snapshot.term_evidence(dict(zip(accounts.ids, passes.tolist(), strict=True)))
    if not evidence:
        return out
    mapper = _mapper(str(folder))
    names = dict(zip(mapper.slugs, mapper.names, strict=True))
    index = {key: i for i, key in enumerate(accounts.ids)}
    rows = [
        (int(accounts.profile[index[e.account]]), e.term, e.posts, e.engagements, e.engagers, e.influence)
        for e in evidence
        if e.account in index
    ]
    if not rows:
        return out
    profiles, terms, posts, engaged, engagers, influence = zip(*rows, strict=True)
    # all the rank each account's posts received (each engagement once)
    rank_in = np.bincount(engagements.dst, weights=engagements.weight * passes[engagements.src], minlength=n)
    support = topic_support(
        mapper,
        profiles,
        terms,
        posts,
        engaged,
        accounts.n_profiles,
        version,
        evidence_engagers=engagers,
        evidence_influence=influence,
        profile_influence=np.bincount(accounts.profile, weights=rank_in, minlength=accounts.n_profiles),
    )
    for pid, chosen in zip(accounts.profile_ids, support, strict=True):
        out[pid]["topic_support"] = [[slug, names[slug], round(share, 6)] for slug, share in chosen]
    return out


def scored_topics(
    extras: list[dict[str, Any]],
    scores: np.ndarray,
    version: Any,
    raw: np.ndarray | None = None,
    calibration: CalibrationTable | None = None,
) -> list[list[dict[str, Any]]]:
    """Each profile's topics with scores (``{"slug", "name", "score"}``, best first, at most
    ``topic_max``) from its ``topic_support``, for a whole partition at once: with the profiles' raw
    influence and the calibration, the score of the rank received through the topic's posts
    (``core.topics.influence_topic_scores``); without, the share rule of ``core.topics.score_topics``.

    Examples
    --------
    >>> scored_topics([{"topic_support": [["physics", "Physics", 0.25]]}, {}], np.array([64.0, 50.0]), "v1")
    [[{'slug': 'physics', 'name': 'Physics', 'score': 32}], []]
    """
    supports = [extra.get("topic_support") or [] for extra in extras]
    shares = [[(slug, float(share)) for slug, _, share in support] for support in supports]
    if raw is not None and calibration is not None:
        chosen = influence_topic_scores(shares, raw, calibration, version)
    else:
        chosen = score_topics(shares, scores, version)
    out = []
    for support, picked in zip(supports, chosen, strict=True):
        names = {slug: name for slug, name, _ in support}
        out.append([{"slug": slug, "name": names[slug], "score": value} for slug, value in picked])
    return out
