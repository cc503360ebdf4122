"""Topics and style of every profile, from the snapshot, with the core.

Both are known before the solve: style needs only the engagement rows, topics need the topic
evidence ingest keeps (``TERM#`` items for the posts carrying a term, ``t_<term>`` counters on the
edges for the engagements and engagers they drew) mapped onto the Klout topic ontology (CC BY 3.0).
The snapshot step stores, per profile, its style and the *support* of its topics (topic, share of its
engagement); the write steps turn shares into topic scores with the profile's new score
(``core.topics.score_topics``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.style import style
from core.topics import load_ontology, score_topics, topic_support
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
def _ontology(path: str) -> Any:
    return load_ontology(path)


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
    evidence = snapshot.term_evidence()
    if folder is None or not evidence:
        return out
    ontology = _ontology(str(folder))
    names = dict(zip(ontology.slugs, ontology.names, strict=True))
    index = {key: i for i, key in enumerate(accounts.ids)}
    rows = [
        (int(accounts.profile[index[e.account]]), e.term, e.posts, e.engagements, e.engagers)
        for e in evidence
        if e.account in index
    ]
    if not rows:
        return out
    profiles, terms, posts, engaged, engagers = zip(*rows, strict=True)
    # all the engagement each account received (each engagement once): the engagement rows' weights
    received = np.bincount(engagements.dst, weights=engagements.weight, minlength=accounts.n_accounts)
    support = topic_support(
        ontology,
        profiles,
        terms,
        posts,
        engaged,
        accounts.n_profiles,
        version,
        evidence_engagers=engagers,
        profile_engagements=np.bincount(accounts.profile, weights=received, minlength=accounts.n_profiles),
    )
    for pid, chosen in zip(accounts.profile_ids, support, strict=True):
        out[pid]["topic_support"] = [[slug, names[slug], round(share, 6)] for slug, share in chosen]
    return out


def scored_topics(
    extras: list[dict[str, Any]], scores: np.ndarray, version: Any
) -> list[list[dict[str, Any]]]:
    """Each profile's topics with scores (``{"slug", "name", "score"}``, best first, at most
    ``topic_max``) from its ``topic_support`` and its new score, for a whole partition at once.

    Examples
    --------
    >>> scored_topics([{"topic_support": [["physics", "Physics", 0.25]]}, {}], np.array([64.0, 50.0]), "v1")
    [[{'slug': 'physics', 'name': 'Physics', 'score': 32}], []]
    """
    supports = [extra.get("topic_support") or [] for extra in extras]
    chosen = score_topics(
        [[(slug, float(share)) for slug, _, share in support] for support in supports], scores, version
    )
    out = []
    for support, picked in zip(supports, chosen, strict=True):
        names = {slug: name for slug, name, _ in support}
        out.append([{"slug": slug, "name": names[slug], "score": value} for slug, value in picked])
    return out
