"""Topics: what a person is influential about, on the Klout topic ontology.

(Just over 500 lines: the ontology, the matching of text to topics and the topic scores of a profile
are one path from text to scores; the text rules of the finer mapper are in :mod:`core.topic_map`.)

The ontology is the Klout Topic Ontology (2018-06-01) released by Klout under CC-BY 3.0
(:data:`ATTRIBUTION`; keep it wherever topics are shown). Topic ids exceed int64 and are kept as
strings.

Matching (documented in ``docs/algorithm.md``): text is lower-cased; hashtags (``#HiggsBoson``), words
and 1-3 word n-grams are *compacted* (only letters and digits kept: ``higgs boson`` -> ``higgsboson``),
links contribute their domain's first label after ``www.`` (``https://www.nasa.gov/x`` -> ``nasa``);
a compacted key matches a topic whose compacted slug or English display name equals it. Keys of
fewer than 3 characters and a few stop words are ignored.

Terms map onto topics with :class:`core.topic_map.TopicMapper` (names in six languages, aliases,
disambiguation, learned terms, hierarchy; ``docs/topics.md``) or, for a :class:`TopicOntology`, the
exact matching above.

Support: a topic is assigned to a profile only if it is matched in at least ``topic_min_posts``
distinct posts of the profile that together drew at least ``topic_min_engagers`` distinct engagers,
so one viral post does not make anyone influential about lizards. Topic score
(:func:`influence_topic_scores`): the calibrated score of the rank the profile received through its
posts about the topic; :func:`score_topics` keeps the earlier rule (the profile score times the square
root of the topic's share of the engagement of the profile's posts, clipped to [1, 100]).
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.calibration import CalibrationTable, apply_calibration
from core.errors import InputFormatError, InvalidParametersError
from core.topic_map import TopicMapper
from core.versions import AlgorithmParams, resolve

__all__ = [
    "ATTRIBUTION",
    "TopicOntology",
    "assign_topics",
    "influence_topic_scores",
    "load_ontology",
    "match_topics",
    "score_topics",
    "term_text",
    "topic_score",
    "topic_support",
    "topics_from_evidence",
]

ATTRIBUTION = (
    "Topics: Klout Topic Ontology (2018-06-01) by Klout, CC BY 3.0 "
    "(https://creativecommons.org/licenses/by/3.0/); S. Ellinger et al., arXiv:1710.09824"
)
_STOP = {
    "the",
    "and",
    "for",
    "you",
    "this",
    "that",
    "with",
    "are",
    "was",
    "http",
    "https",
    "www",
    "com",
    "new",
}
_TOKEN = re.compile(r"#?[^\W_]+", re.UNICODE)
_URL = re.compile(r"https?://(?:www\.)?([^/\s.]+)", re.IGNORECASE)


def _compact(s: str) -> str:
    return "".join(ch for ch in s.lower() if ch.isalnum())


@dataclass(frozen=True)
class TopicOntology:
    """Topics with their hierarchy.

    Attributes
    ----------
    ids, slugs, names : list of str
        Topic id (as a string), slug and English display name, by topic index.
    parents : dict of str to list of str
        Parent slugs of each slug (the ``_ROOT_`` is left out).
    attribution : str
        Credit line required by the licence.
    """

    ids: list[str]
    slugs: list[str]
    names: list[str]
    parents: dict[str, list[str]]
    attribution: str = ATTRIBUTION
    index: dict[str, int] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        """Number of topics."""
        return len(self.slugs)


def load_ontology(path_dir: str | os.PathLike[str]) -> TopicOntology:
    """Load the Klout topic ontology CSVs from a directory.

    Examples
    --------
    >>> import os
    >>> d = "/work/shared/datasets/klout-topics"
    >>> onto = load_ontology(d) if os.path.isdir(d) else None
    >>> onto is None or ("physics" in onto.slugs and "CC BY 3.0" in onto.attribution)
    True
    """
    base = os.fspath(path_dir)
    onto_path = os.path.join(base, "klout_topic_ontology_20180601.csv")
    edge_path = os.path.join(base, "klout_topic_edge_20180601.csv")
    ids: list[str] = []
    slugs: list[str] = []
    names: list[str] = []
    try:
        with open(onto_path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            for lineno, row in enumerate(reader, start=2):
                try:
                    ids.append(str(row["topicId"]))
                    slugs.append(row["topicSlug"])
                    names.append(row["topicDisplayName"])
                except KeyError as exc:
                    raise InputFormatError(f"missing column {exc}", onto_path, lineno) from None
        parents: dict[str, list[str]] = {}
        if os.path.exists(edge_path):
            with open(edge_path, newline="", encoding="utf-8") as fh:
                rows = csv.reader(fh)
                next(rows, None)
                for edge in rows:
                    if len(edge) >= 4 and edge[1] != "_ROOT_" and edge[3] != edge[1]:
                        parents.setdefault(edge[3], []).append(edge[1])
    except OSError as exc:
        raise InputFormatError(f"cannot read the ontology: {exc}", base) from None
    index: dict[str, int] = {}
    for i, (slug, name) in enumerate(zip(slugs, names, strict=True)):
        for key in (_compact(slug), _compact(name)):
            if len(key) >= 3 and key not in _STOP:
                index.setdefault(key, i)
    return TopicOntology(ids, slugs, names, parents, ATTRIBUTION, index)


def match_topics(text: str, ontology: TopicOntology, max_ngram: int = 3) -> set[int]:
    """Indices of the topics a text mentions (hashtags, words, n-grams, link domains).

    Examples
    --------
    >>> onto = TopicOntology(["1", "2"], ["particle-physics", "nasa"], ["Particle Physics", "NASA"], {})
    >>> onto.index.update({"particlephysics": 0, "nasa": 1})
    >>> sorted(match_topics("New #ParticlePhysics result https://www.nasa.gov/x", onto))
    [0, 1]
    """
    found: set[int] = set()
    idx = ontology.index
    for dom in _URL.findall(text):
        k = _compact(dom)
        if k in idx:
            found.add(idx[k])
    text_wo_urls = _URL.sub(" ", text)
    words = _TOKEN.findall(text_wo_urls)
    plain = []
    for w in words:
        if w.startswith("#"):
            k = _compact(w[1:])
            if k in idx:
                found.add(idx[k])
            plain.append(w[1:])
        else:
            plain.append(w)
    low = [w.lower() for w in plain]
    for size in range(1, max_ngram + 1):
        for i in range(len(low) - size + 1):
            k = _compact("".join(low[i : i + size]))
            if len(k) >= 3 and k not in _STOP and k in idx:
                found.add(idx[k])
    return found


def assign_topics(
    ontology: TopicOntology,
    post_profile: Sequence[int] | np.ndarray,
    post_text: Sequence[str],
    post_engagers: Sequence[Sequence[Hashable]],
    profile_scores: np.ndarray,
    version: str | AlgorithmParams = "v1",
) -> list[list[tuple[str, int]]]:
    """Per-profile topics with a 1-100 topic score, best first.

    Parameters
    ----------
    ontology : TopicOntology
    post_profile : sequence of int
        Profile index of the author of each post.
    post_text : sequence of str
        Text of each post (hashtags, keywords and links are matched).
    post_engagers : sequence of sequences
        Engager keys of each post (one entry per engagement; repeated keys count once for support).
    profile_scores : ndarray
        Score per profile (``ScoreResult.score``).
    version : str or AlgorithmParams
        Gives ``topic_min_posts``, ``topic_min_engagers`` and ``topic_max``.

    Returns
    -------
    list (per profile) of lists of ``(topic_slug, topic_score)``.

    Examples
    --------
    >>> onto = TopicOntology(["1"], ["physics"], ["Physics"], {})
    >>> onto.index["physics"] = 0
    >>> posts = ["physics is fun"] * 3
    >>> engagers = [["a", "b"], ["c", "d"], ["e"]]
    >>> assign_topics(onto, [0, 0, 0], posts, engagers, np.array([64.0]))
    [[('physics', 64)]]
    """
    params = resolve(version)
    if not isinstance(ontology, TopicOntology):
        raise InvalidParametersError("ontology must be a TopicOntology (see load_ontology)")
    pp = np.asarray(post_profile, dtype=np.int64)
    scores = np.asarray(profile_scores, dtype=np.float64)
    if not (len(pp) == len(post_text) == len(post_engagers)):
        raise InvalidParametersError("post_profile, post_text and post_engagers must have equal lengths")
    if scores.ndim != 1 or (len(pp) and (pp.min() < 0 or pp.max() >= len(scores))):
        raise InvalidParametersError("post_profile must index profile_scores")
    # per profile: topic -> [posts, engagers set, engagement]
    support: list[dict[int, list[Any]]] = [{} for _ in range(len(scores))]
    total = np.zeros(len(scores))
    for p, text, engs in zip(pp.tolist(), post_text, post_engagers, strict=True):
        volume = float(len(engs))
        total[p] += volume
        for t in match_topics(text, ontology):
            rec = support[p].setdefault(t, [0, set(), 0.0])
            rec[0] += 1
            rec[1].update(engs)
            rec[2] += volume
    out: list[list[tuple[str, int]]] = []
    for p, topics in enumerate(support):
        chosen = []
        for t, (n_posts, engagers, volume) in topics.items():
            if n_posts < params.topic_min_posts or len(engagers) < params.topic_min_engagers:
                continue
            share = volume / total[p] if total[p] > 0 else 0.0
            chosen.append((ontology.slugs[t], topic_score(scores[p], share)))
        chosen.sort(key=lambda st: (-st[1], st[0]))
        out.append(chosen[: params.topic_max])
    return out


def topic_support(
    ontology: TopicOntology | TopicMapper,
    evidence_profile: Sequence[int] | np.ndarray,
    evidence_term: Sequence[str],
    evidence_posts: Sequence[int] | np.ndarray,
    evidence_engagements: Sequence[int] | np.ndarray,
    n_profiles: int,
    version: str | AlgorithmParams = "v1",
    evidence_engagers: Sequence[int] | np.ndarray | None = None,
    profile_engagements: Sequence[float] | np.ndarray | None = None,
    evidence_influence: Sequence[float] | np.ndarray | None = None,
    profile_influence: Sequence[float] | np.ndarray | None = None,
) -> list[list[tuple[str, float]]]:
    """The topics each profile has enough support for, with their share of its engagement.

    ``ontology`` is a :class:`TopicOntology` (exact matching, :func:`match_topics`) or a
    :class:`core.topic_map.TopicMapper`: then each term is mapped to the topics it asserts (its
    parents included), each topic counting the term's posts and engagers whole (the support rule)
    and its engagement times the weight of the term's evidence for the topic
    (``TopicMapper.evidence_of``: the share). With ``evidence_influence`` and ``profile_influence``
    (the rank the posts carrying the term received, and all the rank the profile's posts received)
    the share is the topic's share of the received rank.

    The ingest pipeline keeps, per account and term (hashtag, keyword, link domain), how many posts
    carried the term, how many engagements those posts received and from how many distinct engagers.
    A topic needs at least ``topic_min_posts`` posts and ``topic_min_engagers`` distinct engagers.
    Counts are kept per term, and one post can carry several terms of one topic (``#lizards``,
    ``lizards``, ``#reptiles``): the topic's posts and engagers are the most that any one of its terms
    has (at most the distinct posts and engagers about the topic, never more; rows of one profile and
    term, from its accounts on several networks, add up first), so one viral post stays one post
    however many of the topic's terms it carries (without ``evidence_engagers`` the
    engagement count stands in for the engagers). One viral post never makes a topic.
    Scores are not needed: :func:`score_topics` turns the shares into topic scores once the profile
    scores are known.

    Parameters
    ----------
    ontology : TopicOntology
    evidence_profile : sequence of int
        Profile index of each evidence row.
    evidence_term : sequence of str
        The term of each row, matched against the ontology with :func:`match_topics`.
    evidence_posts, evidence_engagements : sequences of int
        Posts carrying the term, engagements those posts received.
    n_profiles : int
        Number of profiles (rows index ``range(n_profiles)``).
    version : str or AlgorithmParams
        Gives ``topic_min_posts`` and ``topic_min_engagers``.
    evidence_engagers : sequence of int, optional
        Distinct engagers of the posts carrying the term.
    profile_engagements : sequence of float, optional
        All the engagement each profile's posts drew, each engagement once (the share's denominator).
        Without it the denominator is the sum of the profile's evidence rows, which counts an
        engagement once per term of its post.

    Returns
    -------
    list (per profile) of lists of ``(topic_slug, share)``: the topic's share of the engagement of
    the profile's posts, largest first.

    Examples
    --------
    >>> onto = TopicOntology(["1"], ["physics"], ["Physics"], {})
    >>> onto.index["physics"] = 0
    >>> topic_support(onto, [0, 0], ["#physics", "cats"], [4, 1], [9, 27], 1, evidence_engagers=[6, 20])
    [[('physics', 0.25)]]
    >>> topic_support(onto, [0], ["#physics"], [4], [9], 1, evidence_engagers=[2])  # too few engagers
    [[]]
    >>> topic_support(onto, [0, 0], ["#physics", "cats"], [4, 4], [9, 9], 1, profile_engagements=[9])
    [[('physics', 1.0)]]
    """
    params = resolve(version)
    if not isinstance(ontology, (TopicOntology, TopicMapper)):
        raise InvalidParametersError("ontology must be a TopicOntology or a TopicMapper")
    prof = np.asarray(evidence_profile, dtype=np.int64)
    posts = np.asarray(evidence_posts, dtype=np.float64)
    engaged = np.asarray(evidence_engagements, dtype=np.float64)
    engagers = engaged if evidence_engagers is None else np.asarray(evidence_engagers, dtype=np.float64)
    if not (len(prof) == len(evidence_term) == len(posts) == len(engaged) == len(engagers)):
        raise InvalidParametersError("evidence columns must have equal lengths")
    if n_profiles < 0:
        raise InvalidParametersError("n_profiles must be >= 0")
    if len(prof) and (prof.min() < 0 or prof.max() >= n_profiles):
        raise InvalidParametersError("evidence_profile must index range(n_profiles)")
    if len(prof) and (posts.min() < 0 or engaged.min() < 0 or engagers.min() < 0):
        raise InvalidParametersError("evidence counts must be >= 0")
    if (evidence_influence is None) != (profile_influence is None):
        raise InvalidParametersError("evidence_influence and profile_influence go together")
    if evidence_influence is not None and profile_influence is not None:
        engaged = np.asarray(evidence_influence, dtype=np.float64)
        profile_engagements = profile_influence
        bad = len(engaged) and (engaged.min() < 0 or not np.isfinite(engaged).all())
        if len(engaged) != len(prof) or bad:
            raise InvalidParametersError("evidence_influence must be one finite value >= 0 per row")
    support: list[dict[int, list[float]]] = [{} for _ in range(n_profiles)]
    if profile_engagements is not None:
        total = np.asarray(profile_engagements, dtype=np.float64)
        if total.shape != (n_profiles,) or not np.all(np.isfinite(total)) or (len(total) and total.min() < 0):
            raise InvalidParametersError("profile_engagements must be n_profiles finite counts >= 0")
    elif len(prof):
        total = np.bincount(prof, weights=engaged, minlength=n_profiles).astype(np.float64)
    else:
        total = np.zeros(n_profiles)
    # rows of one profile and term (its accounts on several networks) add up: other posts, other engagers
    by_term: dict[tuple[int, str], list[float]] = {}
    for p, term, n_posts, n_eng, n_engagers in zip(
        prof.tolist(), evidence_term, posts.tolist(), engaged.tolist(), engagers.tolist(), strict=True
    ):
        row = by_term.setdefault((p, term), [0.0, 0.0, 0.0])
        row[0] += n_posts
        row[1] += n_eng
        row[2] += n_engagers
    cache: dict[str, list[tuple[int, float]]] = {}
    for (p, term), (n_posts, n_eng, n_engagers) in by_term.items():
        found = cache.get(term)
        if found is None:
            found = cache[term] = _term_topics(ontology, term)
        for t, weight in found:
            # one post carries several terms of a topic: its posts and engagers are its best term's
            rec = support[p].setdefault(t, [0.0, 0.0, 0.0])
            rec[0] = max(rec[0], n_posts)
            rec[1] += n_eng * weight
            rec[2] = max(rec[2], n_engagers)
    slugs = ontology.slugs
    out: list[list[tuple[str, float]]] = []
    for p, topics in enumerate(support):
        chosen = [
            (slugs[t], float(min(1.0, n_eng / total[p])) if total[p] > 0 else 0.0)
            for t, (n_posts, n_eng, n_engagers) in topics.items()
            if n_posts >= params.topic_min_posts and n_engagers >= params.topic_min_engagers
        ]
        chosen.sort(key=lambda st: (-st[1], st[0]))
        out.append(chosen)
    return out


def term_text(term: str) -> str:
    """The text a stored evidence term stands for: ``domain:home.cern`` -> ``https://home.cern``,
    ``#higgs_boson`` -> ``#higgs_boson``, ``higgs-boson`` -> ``higgs boson``.

    Examples
    --------
    >>> term_text("domain:www.nasa.gov"), term_text("particle-physics"), term_text("#HiggsBoson")
    ('https://www.nasa.gov', 'particle physics', '#HiggsBoson')
    """
    if term.startswith("domain:"):
        return "https://" + term.removeprefix("domain:")
    if term.startswith(("#", "@")):
        return term
    return term.replace("-", " ").replace("_", " ")


def _term_topics(ontology: TopicOntology | TopicMapper, term: str) -> list[tuple[int, float]]:
    if isinstance(ontology, TopicMapper):
        return ontology.evidence_of(term_text(term))
    return [(t, 1.0) for t in match_topics(term.lstrip("#").replace("-", " ").replace("_", " "), ontology)]


def influence_topic_scores(
    support: Sequence[Sequence[tuple[str, float]]],
    raw: np.ndarray,
    table: CalibrationTable,
    version: str | AlgorithmParams = "v1",
) -> list[list[tuple[str, int]]]:
    """Topic scores as influence in the topic: the score, on the version's calibrated scale, of the
    rank a profile received through its posts about the topic (its raw influence times the topic's
    share of the rank its posts received, :func:`topic_support` with ``evidence_influence``).

    Examples
    --------
    >>> t = CalibrationTable(np.array([0.0, 1.0, 10.0]), np.array([1.0, 50.0, 100.0]))
    >>> influence_topic_scores([[("physics", 0.5), ("cats", 0.05)]], np.array([2.0]), t)
    [[('physics', 50), ('cats', 6)]]
    """
    params = resolve(version)
    r = np.asarray(raw, dtype=np.float64)
    if r.ndim != 1 or len(r) != len(support):
        raise InvalidParametersError("raw must have one value per profile of the support")
    out: list[list[tuple[str, int]]] = []
    for p, topics in enumerate(support):
        if not topics:
            out.append([])
            continue
        shares = np.array([share for _, share in topics])
        values = apply_calibration(r[p] * np.clip(shares, 0.0, 1.0), table)
        chosen = [(slug, round(float(v))) for (slug, _), v in zip(topics, values, strict=True)]
        chosen.sort(key=lambda st: (-st[1], st[0]))
        out.append(chosen[: params.topic_max])
    return out


def topic_score(profile_score: float, share: float) -> int:
    """A topic's score from the profile score and the topic's engagement share.

    The profile score times the square root of the share, clipped to [1, 100] and rounded.

    Examples
    --------
    >>> topic_score(64.0, 0.25), topic_score(64.0, 0.0), topic_score(90.0, 1.0)
    (32, 1, 90)
    """
    return round(min(100.0, max(1.0, float(profile_score) * math.sqrt(max(share, 0.0)))))


def score_topics(
    support: Sequence[Sequence[tuple[str, float]]],
    profile_scores: np.ndarray,
    version: str | AlgorithmParams = "v1",
) -> list[list[tuple[str, int]]]:
    """Topic scores from :func:`topic_support` and the profile scores: the best ``topic_max``.

    Examples
    --------
    >>> score_topics([[("physics", 0.25), ("science", 0.01)]], np.array([64.0]))
    [[('physics', 32), ('science', 6)]]
    """
    params = resolve(version)
    scores = np.asarray(profile_scores, dtype=np.float64)
    if scores.ndim != 1 or len(scores) != len(support):
        raise InvalidParametersError("profile_scores must have one score per profile of the support")
    out: list[list[tuple[str, int]]] = []
    for p, topics in enumerate(support):
        chosen = [(slug, topic_score(scores[p], share)) for slug, share in topics]
        chosen.sort(key=lambda st: (-st[1], st[0]))
        out.append(chosen[: params.topic_max])
    return out


def topics_from_evidence(
    ontology: TopicOntology,
    evidence_profile: Sequence[int] | np.ndarray,
    evidence_term: Sequence[str],
    evidence_posts: Sequence[int] | np.ndarray,
    evidence_engagements: Sequence[int] | np.ndarray,
    profile_scores: np.ndarray,
    version: str | AlgorithmParams = "v1",
    evidence_engagers: Sequence[int] | np.ndarray | None = None,
) -> list[list[tuple[str, int]]]:
    """Per-profile topics from aggregated evidence: :func:`topic_support` then :func:`score_topics`.

    Returns
    -------
    list (per profile) of lists of ``(topic_slug, topic_score)``, best first.

    Examples
    --------
    >>> onto = TopicOntology(["1"], ["physics"], ["Physics"], {})
    >>> onto.index["physics"] = 0
    >>> topics_from_evidence(onto, [0, 0], ["#physics", "cats"], [4, 1], [9, 50], np.array([64.0]))
    [[('physics', 25)]]
    """
    scores = np.asarray(profile_scores, dtype=np.float64)
    if scores.ndim != 1:
        raise InvalidParametersError("profile_scores must be one score per profile")
    support = topic_support(
        ontology,
        evidence_profile,
        evidence_term,
        evidence_posts,
        evidence_engagements,
        len(scores),
        version,
        evidence_engagers,
    )
    return score_topics(support, scores, version)
