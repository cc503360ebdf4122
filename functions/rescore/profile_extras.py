"""Topics and style of every profile, computed with the core after a scoring pass.

Topics come from the topic evidence ingest keeps per account and term (``TERM#`` items: posts that
carried the term and the engagements they got), mapped onto the Klout topic ontology (CC BY 3.0).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from functions.rescore.graph_source import GraphSnapshot
from functions.shared.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


def topics_dir() -> Path | None:
    """Where the ontology is: ``RENOWN_TOPICS_DIR``, else the datasets folder beside the repository."""
    settings = get_settings()
    candidates = [settings.topics_dir, settings.datasets_dir and f"{settings.datasets_dir}/klout-topics"]
    candidates.append(str(ROOT.parent / "shared" / "datasets" / "klout-topics"))
    for candidate in candidates:
        if candidate and (Path(candidate) / "klout_topic_ontology_20180601.csv").exists():
            return Path(candidate)
    return None


@lru_cache(maxsize=1)
def _ontology(path: str) -> Any:
    from core.topics import load_ontology

    return load_ontology(path)


def profile_extras(
    snapshot: GraphSnapshot, engagements: Any, accounts: Any, result: Any, version: str, now: float
) -> dict[str, dict[str, Any]]:
    """``{profile_id: {"topics": [{"slug", "name", "score"}], "style": {"name", "axes"}}}``.

    Examples
    --------
    >>> # extras = profile_extras(snapshot, engagements, accounts, result, "v1", time.time())
    """
    from core.style import style
    from core.topics import topics_from_evidence

    out: dict[str, dict[str, Any]] = {pid: {} for pid in accounts.profile_ids}
    for pid, entry in zip(accounts.profile_ids, style(engagements, accounts, now=now), strict=True):
        out[pid]["style"] = {"name": entry["style"], "axes": entry["axes"]}
    folder = topics_dir()
    if folder is None or not snapshot.terms:
        return out
    ontology = _ontology(str(folder))
    index = {key: i for i, key in enumerate(accounts.ids)}
    rows = [
        (int(accounts.profile[index[key]]), t.term, t.posts, t.engagements)
        for t in snapshot.terms
        if (key := f"{t.network}:{t.account_id}") in index
    ]
    if not rows:
        return out
    profiles, terms, posts, engaged = zip(*rows, strict=True)
    topics = topics_from_evidence(ontology, profiles, terms, posts, engaged, result.score, version=version)
    for pid, chosen in zip(accounts.profile_ids, topics, strict=True):
        out[pid]["topics"] = [
            {"slug": slug, "name": ontology.names[ontology.index[slug]], "score": score}
            for slug, score in chosen
        ]
    return out
