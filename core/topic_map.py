"""Text to weighted topics on the Klout topic ontology (CC BY 3.0, see :data:`core.topics.ATTRIBUTION`).

(One module over 500 lines on purpose: the matching rules of :class:`TopicMapper` and the learning of
its word features, :func:`learn_terms`, must fold and split text the same way, so they sit together.)

:class:`TopicMapper` turns a text (a post, a hashtag, a link, an entity's name) into topics with a
weight in (0, 1]. The rules (``docs/topics.md`` has the reasons and the measurements):

1. **Names.** Every display name of a topic in the ontology's six languages (en, fr, ar, it, es, de),
   its slug, and the aliases its English name carries (``National Security Agency (NSA)`` gives
   ``national security agency`` and ``nsa``; ``Lost (TV Series)`` gives ``lost`` with ``tv series``
   as context). Text and names are folded the same way (accents dropped, case folded, apostrophes
   removed, a plural ``s`` dropped) and matched as whole word sequences; hashtags are split at case
   changes (``#HiggsBoson``) and also matched without spaces, like link domains and mentions. A
   match covering the whole text weighs 1, one inside a longer text the square root of the share of
   the words it covers; a match inside a longer match is dropped.
2. **Disambiguation.** When one name fits several topics (``Mercury``: the planet, the element, the
   singer), each candidate's *context* (the words of its own names, qualifiers, parents and
   children) is compared with the rest of the text; the candidates share the match's weight in
   proportion to ``(1 + shared words) ** 2``.
3. **Words.** A word of the text found in a topic's names (not the whole name) is weak evidence:
   ``word_weight`` (0.15) times the word's specificity (``log(N / topics with the word) / log N``).
4. **Learned terms** (:class:`LearnedTerms`, :func:`learn_terms`): what Klout's labelled
   entity-topic pairs (and the ontology's own names, each an entity of its ancestors) teach about
   the *word features* of a text (:func:`text_features`): the mean, over the text's known word
   features, of the share of the entities with the feature that belong to the topic.
5. **Hierarchy.** A topic passes ``parent_weight`` (0.8) times its weight to each parent, and so on
   up the DAG (a topic keeps the largest weight reaching it).
6. **Reliability.** The result is multiplied by the topic's reliability (its share of right labelled
   pairs, smoothed towards its family's) to the power ``reliability_power`` (3).
7. **Background.** The text's *shape* (any text with a word, length, capitals, digits, a
   qualifier) adds, per topic, the share of right labelled pairs among the topic's pairs with
   entities of that shape (smoothed towards the topic's reliability), scaled to stay below the
   threshold: it orders topics for which the text has no evidence, and never asserts one.
8. **Named topics first.** A topic the text names (rules 1-2) keeps at least its name weight
   (reliability does not discount a name), and no topic the text does not name weighs more than
   ``parent_weight`` times the weakest named one: the most specific topics come first, then their
   ancestors and what the learned terms infer.
9. **Prior.** A topic the text gives no weight at all has the weight :meth:`TopicMapper.prior`:
   its reliability times ``PRIOR_SCALE`` (1e-12), below every weight :meth:`TopicMapper.map` lists
   (which leaves those topics out): it orders the topics a text says nothing about.

Evidence of kinds 1, 3 and 4 for one topic is combined as independent evidence
(``1 - (1 - a)(1 - b)``). :attr:`TopicMapper.threshold` (0.007) is the weight from which a topic is
*asserted* (:meth:`TopicMapper.assert_topics`).
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InputFormatError, InvalidParametersError

__all__ = [
    "DEFAULT_LEARNED",
    "LANGUAGES",
    "LearnedTerms",
    "TopicMapper",
    "fold_words",
    "learn_terms",
    "load_learned",
]

LANGUAGES = ("en", "fr", "ar", "it", "es", "de")
ONTOLOGY_FILE = "klout_topic_ontology_20180601.csv"
EDGE_FILE = "klout_topic_edge_20180601.csv"
DISPLAY_FILE = "klout_topic_display_20180601.csv"
DEFAULT_LEARNED = Path(__file__).resolve().parent / "data" / "topic_terms.json.gz"
UNKNOWN = "_display_unknown_"

# words that never make a topic on their own (one-word names that are also function words)
STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "de",
        "del",
        "der",
        "des",
        "die",
        "du",
        "el",
        "en",
        "et",
        "for",
        "from",
        "in",
        "is",
        "it",
        "its",
        "la",
        "le",
        "les",
        "los",
        "new",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "this",
        "to",
        "un",
        "una",
        "und",
        "une",
        "was",
        "we",
        "what",
        "with",
        "you",
        "your",
        "http",
        "https",
        "www",
        "com",
        "org",
        "net",
    ]
)
_APOS = re.compile(r"[\u2019'`\u00b4]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])")
_URL = re.compile(r"https?://(?:www\.)?([^/\s:?#]+)", re.IGNORECASE)
_TAG = re.compile(r"[#@]([^\W_][\w]*)", re.UNICODE)
_PAREN = re.compile(r"^(.*?)\s*\(([^)]*)\)\s*$")
MAX_PHRASE = 8
PRIOR_SCALE = 1e-12  # rule 9: below any weight the mapper lists
SERVICE_MINIMUM = 0.3  # evidence a term needs to count for a topic in the service (TopicMapper.evidence_of)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def fold_words(text: str, stem: bool = True) -> list[str]:
    """Folded words of a text: accents dropped, case folded, apostrophes removed, plural ``s`` dropped.

    Examples
    --------
    >>> fold_words("Women's Rights in Córdoba")
    ['women', 'right', 'in', 'cordoba']
    """
    decomposed = unicodedata.normalize("NFKD", _APOS.sub("", text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = _WORD.findall(plain)
    return [_stem(w) for w in words] if stem else words


def text_features(text: str) -> set[str]:
    """What learned terms are keyed by.

    The folded words (stop words and single letters left out), the first two words as a pair
    (``anatidae_bird``), the last four letters of words of at least six (``~idae``) and the first
    five of words of at least seven (``anati~``): the *word features*; and the text's *shape*
    (``#any`` for every text with a word, ``#words=3``; ``#proper`` when every word is capitalised,
    ``#digits``, ``#qualified`` for a trailing parenthesis).

    Examples
    --------
    >>> sorted(text_features("Anatidae (bird family)"))  # doctest: +NORMALIZE_WHITESPACE
    ['#any', '#qualified', '#words=3', 'anatidae', 'anatidae_bird', 'anati~', 'bird', 'family',
     '~idae', '~mily']
    """
    words = fold_words(_URL.sub(" ", text))
    out = {w for w in words if w not in STOP and len(w) > 1}
    out |= {"~" + w[-4:] for w in words if len(w) >= 6 and w.isalpha()}
    out |= {w[:5] + "~" for w in words if len(w) >= 7 and w.isalpha()}
    out.add(f"#words={min(len(words), 6)}")
    if words:
        out.add("#any")
    if words and all(w[:1].isupper() for w in _WORD.findall(text)):
        out.add("#proper")
    if len(words) >= 2:
        out.add(words[0] + "_" + words[1])
    if any(ch.isdigit() for ch in text):
        out.add("#digits")
    if text.rstrip().endswith(")"):
        out.add("#qualified")
    return out


def slug_of(name: str) -> str:
    """A slug for a topic name (the ontology's own slugs replace it when loaded from the CSVs).

    Examples
    --------
    >>> slug_of("Women's Rights")
    'womens-rights'
    """
    return "-".join(fold_words(name, stem=False))


def _compact(words: Sequence[str]) -> str:
    return "".join(words)


@dataclass
class LearnedTerms:
    """What Klout's labelled entity-topic pairs teach (see :func:`learn_terms`).

    Attributes
    ----------
    terms : dict of str to dict of str to float
        Folded word -> topic id -> weight (the share of the labelled entities containing the word
        that belong to the topic, smoothed).
    reliability : dict of str to float
        Topic id -> smoothed share of its labelled pairs that are right.
    prior : float
        Reliability of a topic without labelled pairs.
    """

    terms: dict[str, dict[str, float]] = field(default_factory=dict)
    reliability: dict[str, float] = field(default_factory=dict)
    prior: float = 1.0

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (ids as strings, weights rounded to 4 digits)."""
        return {
            "terms": {
                w: {t: round(v, 4) for t, v in sorted(ts.items())} for w, ts in sorted(self.terms.items())
            },
            "reliability": {t: round(v, 4) for t, v in sorted(self.reliability.items())},
            "prior": round(self.prior, 4),
        }


def load_learned(path: str | os.PathLike[str] = DEFAULT_LEARNED) -> LearnedTerms:
    """Read learned terms written by ``renown topics learn`` (JSON, gzip if the name ends in .gz).

    Examples
    --------
    >>> learned = load_learned()
    >>> 0.0 < learned.prior <= 1.0 and len(learned.terms) > 100
    True
    """
    p = Path(path)
    try:
        raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        data = json.loads(raw)
        return LearnedTerms(
            {str(w): {str(t): float(v) for t, v in ts.items()} for w, ts in data["terms"].items()},
            {str(t): float(v) for t, v in data["reliability"].items()},
            float(data["prior"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputFormatError(f"cannot read learned topic terms: {exc}", str(p)) from None


class TopicMapper:
    """Maps text to weighted topics (see the module docstring for the rules).

    Parameters
    ----------
    ids, names : sequences of str
        Topic id and English display name, by topic index.
    parents : sequence of sequences of int
        Parent topic indices of each topic (the root left out).
    aliases : sequence of sequences of str
        Further names of each topic (other languages, slug).
    learned : LearnedTerms, optional
    parent_weight : float
        Share of a topic's weight each parent receives.
    threshold : float
        Weight from which a topic is asserted.
    named_first : bool
        Rule 8: a topic the text names keeps its name weight, and no other topic weighs more than
        ``parent_weight`` times the weakest named one.

    Examples
    --------
    >>> m = TopicMapper(["1", "2", "3"], ["Physics", "Science", "Higgs Boson"], [[1], [], [0]], [[], [], []])
    >>> [(m.names[i], round(w, 2)) for i, w in m.map("New #HiggsBoson result")]
    [('Higgs Boson', 0.71), ('Physics', 0.57), ('Science', 0.45)]
    """

    def __init__(
        self,
        ids: Sequence[str],
        names: Sequence[str],
        parents: Sequence[Sequence[int]],
        aliases: Sequence[Sequence[str]],
        learned: LearnedTerms | None = None,
        parent_weight: float = 0.8,
        threshold: float = 0.007,
        word_weight: float = 0.15,
        reliability_power: float = 3.0,
        named_first: bool = True,
    ) -> None:
        if not (len(ids) == len(names) == len(parents) == len(aliases)):
            raise InvalidParametersError("ids, names, parents and aliases must have equal lengths")
        if not 0.0 <= parent_weight <= 1.0 or not 0.0 < threshold <= 1.0:
            raise InvalidParametersError("parent_weight must be in [0, 1] and threshold in (0, 1]")
        self.ids = list(ids)
        self.names = list(names)
        self.slugs = [slug_of(name) for name in self.names]
        self.parents = [list(p) for p in parents]
        self.parent_weight = parent_weight
        self.threshold = threshold
        self.reliability_power = reliability_power
        self.named_first = named_first
        self.background_weight = 0.9 * threshold
        self.position = {t: i for i, t in enumerate(self.ids)}
        self.phrases: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self.compact: dict[str, list[int]] = defaultdict(list)
        self.context: list[set[str]] = [set() for _ in self.ids]
        self._own: list[set[str]] = [set() for _ in self.ids]
        self.max_phrase = 1
        for i, (name, more) in enumerate(zip(self.names, aliases, strict=True)):
            for label in (name, *more):
                self._add_name(i, label)
        for i, ps in enumerate(self.parents):
            for p in ps:
                self.context[i] |= self._own[p]
                self.context[p] |= self._own[i]
        for i in range(len(self.ids)):
            self.context[i] |= self._own[i]
            self.context[i] -= STOP
        self.word_topics: dict[str, list[int]] = defaultdict(list)
        for i, own in enumerate(self._own):
            for w in own:
                if len(w) > 2 and w not in STOP:
                    self.word_topics[w].append(i)
        n_topics = max(len(self.ids), 2)
        self.word_weight = {
            w: word_weight * math.log(n_topics / len(ts)) / math.log(n_topics)
            for w, ts in self.word_topics.items()
        }
        self.order = self._children_first()
        self.set_learned(learned or LearnedTerms())

    def set_learned(self, learned: LearnedTerms) -> None:
        """Use these learned terms and reliabilities from now on."""
        self.learned = learned
        self.learned_terms = {
            w: [(self.position[t], v) for t, v in ts.items() if t in self.position]
            for w, ts in learned.terms.items()
        }
        power = self.reliability_power
        self.reliability = [learned.reliability.get(t, learned.prior) ** power for t in self.ids]

    def _add_name(self, i: int, label: str) -> None:
        if not label or label == UNKNOWN:
            return
        variants = [label]
        m = _PAREN.match(label)
        if m:
            base, inner = m.group(1), m.group(2)
            variants = [base]
            if inner.replace(" ", "").isupper() or inner.replace(".", "").isupper():
                variants.append(inner)  # an acronym: National Security Agency (NSA)
            else:
                self._own[i].update(fold_words(inner))  # a qualifier: Lost (TV Series)
        for v in variants:
            words = fold_words(v.replace("-", " "))
            if words and words[0] == "the" and len(words) > 1:
                words = words[1:]
            if not words or (len(words) == 1 and (words[0] in STOP or len(words[0]) < 2)):
                continue
            key = tuple(words)
            if i not in self.phrases[key]:
                self.phrases[key].append(i)
            self.max_phrase = min(MAX_PHRASE, max(self.max_phrase, len(key)))
            c = _compact(words)
            if len(c) >= 3 and i not in self.compact[c]:
                self.compact[c].append(i)
            self._own[i].update(words)

    def ancestors(self, i: int) -> set[int]:
        """Every topic above topic ``i`` in the hierarchy."""
        seen: set[int] = set()
        todo = list(self.parents[i])
        while todo:
            p = todo.pop()
            if p not in seen:
                seen.add(p)
                todo.extend(self.parents[p])
        return seen

    def _children_first(self) -> list[int]:
        n = len(self.ids)
        pending = [0] * n
        for ps in self.parents:
            for p in ps:
                pending[p] += 1
        ready = [i for i in range(n) if pending[i] == 0]
        order: list[int] = []
        while ready:
            i = ready.pop()
            order.append(i)
            for p in self.parents[i]:
                pending[p] -= 1
                if pending[p] == 0:
                    ready.append(p)
        return order  # a cycle's members are left out (the ontology has none)

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike[str],
        learned: LearnedTerms | str | os.PathLike[str] | None = DEFAULT_LEARNED,
        **kwargs: Any,
    ) -> TopicMapper:
        """Build the mapper from the ontology CSVs in ``folder`` (and the learned terms, by default
        the ones shipped with the package; ``None`` for the ontology alone).

        Examples
        --------
        >>> d = "/work/shared/datasets/klout-topics"
        >>> m = TopicMapper.load(d) if os.path.isdir(d) else None
        >>> m is None or "Physics" in [m.names[i] for i, _ in m.map("quantum physics")]
        True
        """
        base = os.fspath(folder)
        ids: list[str] = []
        names: list[str] = []
        parents_of: dict[str, list[str]] = defaultdict(list)
        aliases: dict[str, list[str]] = defaultdict(list)
        slugs: dict[str, str] = {}
        try:
            with open(os.path.join(base, ONTOLOGY_FILE), newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    ids.append(str(row["topicId"]))
                    names.append(row["topicDisplayName"])
                    slugs[ids[-1]] = row["topicSlug"]
            with open(os.path.join(base, EDGE_FILE), newline="", encoding="utf-8") as fh:
                rows = csv.reader(fh)
                next(rows, None)
                for edge in rows:
                    if len(edge) >= 4 and edge[1] != "_ROOT_" and edge[0] != edge[2]:
                        parents_of[edge[2]].append(edge[0])
            display = os.path.join(base, DISPLAY_FILE)
            if os.path.exists(display):
                with open(display, newline="", encoding="utf-8") as fh:
                    for row in csv.DictReader(fh):
                        if row["language"] in LANGUAGES:
                            aliases[str(row["topicId"])].append(row["topicDisplayName"])
        except (OSError, KeyError, csv.Error) as exc:
            raise InputFormatError(f"cannot read the topic ontology: {exc}", base) from None
        position = {t: i for i, t in enumerate(ids)}
        for t, slug in slugs.items():
            if not slug.endswith("-super"):
                aliases[t].append(slug)
        if isinstance(learned, (str, os.PathLike)):
            learned = load_learned(learned)
        mapper = cls(
            ids,
            names,
            [[position[p] for p in parents_of.get(t, []) if p in position] for t in ids],
            [aliases.get(t, []) for t in ids],
            learned,
            **kwargs,
        )
        mapper.slugs = [slugs[t] for t in ids]
        return mapper

    def _name_evidence(self, text: str) -> dict[int, float]:
        """Weights from names (rules 1 and 2 of the module docstring)."""
        spans: list[tuple[int, int, list[int]]] = []
        words: list[str] = []
        whole: list[tuple[int, int]] = []
        for dom in _URL.findall(text):
            label = dom.lower().split(".")
            label = [p for p in label if p not in ("www", "m", "mobile")]
            if label:
                spans.append((-1, -1, self.compact.get(_compact(fold_words(label[0])), [])))
        rest = _URL.sub(" ", text)
        for tag in _TAG.findall(rest):
            spans.append((-1, -1, self.compact.get(_compact(fold_words(tag)), [])))
        rest = _TAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", rest)
        words = fold_words(rest)
        n = len(words)
        for size in range(min(self.max_phrase, n), 0, -1):
            for start in range(n - size + 1):
                end = start + size
                if any(s <= start and end <= e for s, e in whole):
                    continue
                topics = self.phrases.get(tuple(words[start:end]))
                if topics:
                    spans.append((start, end, topics))
                    whole.append((start, end))
        out: dict[int, float] = {}
        word_set = set(words)
        for start, end, topics in spans:
            if not topics:
                continue
            strength = 1.0 if start < 0 else math.sqrt((end - start) / n)
            others = word_set - set(words[start:end]) if start >= 0 else word_set
            shares = [(1.0 + len(self.context[t] & others)) ** 2 for t in topics]
            total = sum(shares)
            for t, share in zip(topics, shares, strict=True):
                w = strength * share / total
                out[t] = max(out.get(t, 0.0), w)
        return out

    def weights(self, text: str) -> dict[int, float]:
        """Weight of every topic the text supports (topic index -> weight in (0, 1])."""
        named: dict[int, float] = {}
        evidence, background = self._evidence(text, named)
        return self._combine(evidence, background, named)

    def _combine(
        self, evidence: dict[int, float], background: dict[int, float], named: dict[int, float]
    ) -> dict[int, float]:
        """The weights from the evidence, the background and the named topics (rules 6-8)."""
        rel = self.reliability
        combined = dict(evidence)
        for t, b in background.items():
            combined[t] = min(1.0, combined.get(t, 0.0) + b)
        out = {t: w * rel[t] for t, w in combined.items() if w * rel[t] > 0}
        if named and self.named_first:
            cap = self.parent_weight * min(named.values())
            for t in out:
                if t not in named and out[t] > cap:
                    out[t] = cap
            for t, w in named.items():
                out[t] = max(out.get(t, 0.0), w)
        return out

    def _evidence(
        self, text: str, named: dict[int, float] | None = None, with_background: bool = True
    ) -> tuple[dict[int, float], dict[int, float]]:
        """The evidence after the hierarchy (rules 1-5), and the background (rule 7; left empty
        without ``with_background``: the evidence does not depend on it).
        """
        evidence = self._name_evidence(text)
        if named is not None:
            named.update(evidence)
        features = text_features(text)
        more: dict[int, float] = {}
        for w in features:
            ww = self.word_weight.get(w, 0.0)
            if ww > 0:
                for t in self.word_topics[w]:
                    more[t] = 1.0 - (1.0 - more.get(t, 0.0)) * (1.0 - ww)
        known = [self.learned_terms[f] for f in features if f in self.learned_terms and f[0] != "#"]
        learned: dict[int, float] = defaultdict(float)
        for assoc in known:
            for t, v in assoc:
                learned[t] += v / len(known)
        for t, v in learned.items():
            more[t] = 1.0 - (1.0 - more.get(t, 0.0)) * (1.0 - v)
        for t, v in more.items():
            evidence[t] = 1.0 - (1.0 - evidence.get(t, 0.0)) * (1.0 - v)
        shapes = [self.learned_terms[f] for f in features if f in self.learned_terms and f[0] == "#"]
        if not with_background:
            shapes = []
        background: dict[int, float] = defaultdict(float)
        for assoc in shapes:
            for t, v in assoc:
                background[t] += self.background_weight * v / len(shapes)
        if not evidence and not background:
            return {}, {}
        if self.parent_weight > 0:
            for i in self.order:
                own = evidence.get(i)
                if own is None:
                    continue
                up = own * self.parent_weight
                for p in self.parents[i]:
                    if evidence.get(p, 0.0) < up:
                        evidence[p] = up
        return evidence, background

    def prior(self, t: int) -> float:
        """The weight of topic ``t`` for a text that gives it none (rule 9): ``PRIOR_SCALE`` times
        its reliability, below every weight :meth:`map` lists, so it only orders the topics a text
        says nothing about (the chance that a claim of the topic is right).
        """
        return PRIOR_SCALE * self.reliability[t]

    def map(self, text: str) -> list[tuple[int, float]]:
        """Topics of a text, ``(topic index, weight)`` strongest first (ties by index)."""
        return sorted(self.weights(text).items(), key=lambda tw: (-tw[1], tw[0]))

    def assert_topics(self, text: str) -> list[tuple[int, float]]:
        """The topics :meth:`map` gives at least :attr:`threshold`."""
        return [(t, w) for t, w in self.map(text) if w >= self.threshold]

    def evidence_of(self, text: str, minimum: float = SERVICE_MINIMUM) -> list[tuple[int, float]]:
        """The asserted topics with the weight of what the text names (rules 1-2, then the
        hierarchy, rule 5: before the topic's reliability, without words, learned terms or the
        background), strongest first, those of at least ``minimum``: what the service's topic
        support counts. A term counts for the topics it names and those above them (0.8 per level),
        not for single words or learned terms (a ``#science`` post is not about Actuarial Science,
        a post saying ``announcement`` is not about Government and Politics).

        Examples
        --------
        >>> m = TopicMapper(["1", "2"], ["Physics", "Science"], [[1], []], [[], []])
        >>> m.evidence_of("#physics")
        [(0, 1.0), (1, 0.8)]
        """
        if not self._name_evidence(text):
            return []  # a text that names no topic counts for none (and costs no more to find out)
        named: dict[int, float] = {}
        evidence, background = self._evidence(text, named)
        weights = self._combine(evidence, background, named)
        asserted = {t for t, w in weights.items() if w >= self.threshold}
        by_name = self._up_the_hierarchy(named)
        found = ((t, by_name[t]) for t in asserted if by_name.get(t, 0.0) >= minimum)
        return sorted(found, key=lambda tw: (-tw[1], tw[0]))

    def _up_the_hierarchy(self, evidence: dict[int, float]) -> dict[int, float]:
        """``evidence`` with each topic passing ``parent_weight`` times its weight up (rule 5)."""
        out = dict(evidence)
        if self.parent_weight > 0 and out:
            for i in self.order:
                own = out.get(i)
                if own is None:
                    continue
                up = own * self.parent_weight
                for p in self.parents[i]:
                    if out.get(p, 0.0) < up:
                        out[p] = up
        return out


def learn_terms(
    mapper: TopicMapper,
    entity_names: Iterable[str],
    topic_ids: Iterable[str],
    labels: Iterable[int],
    min_entities: int = 1,
    smoothing: float = 2.0,
    reliability_smoothing: float = 1.0,
    ancestors: bool = True,
    ontology_names: bool = True,
    min_weight: float = 0.0,
    shape_smoothing: float = 4.0,
    min_names: int = 2,
) -> LearnedTerms:
    """Learn feature-topic associations and topic reliabilities from labelled entity-topic pairs.

    A feature (:func:`text_features`) is associated with a topic when at least ``min_entities``
    distinct entities whose names have the feature belong to the topic and at least ``min_names``
    distinct names (labelled entities' and, with ``ontology_names``, topics') have it; the
    association weighs ``entities of the topic / (entities with the feature + smoothing)``. With
    ``min_names`` 2 (the default) no feature is kept that only one labelled entity's name has (a
    rare word, a two-word name): what is learned is what recurs across names, never one entity's
    name and its topics. An entity belonging to a
    topic belongs to its ancestors too (``ancestors``); with ``ontology_names`` every topic's English
    name is one more entity, belonging to the topic's ancestors. Associations under ``min_weight``
    are dropped. A topic's reliability is its share of right labelled pairs, smoothed with
    ``reliability_smoothing`` pseudo-pairs towards its *family's* share (the pairs of the children of
    its parents), itself smoothed towards the share over all pairs. A *shape* feature (``#words=2``,
    ``#proper``, ...) is associated instead with each topic it has labelled pairs of, by the share of
    those pairs that are right, smoothed with ``shape_smoothing`` pseudo-pairs towards the topic's
    reliability: what the background (rule 7) orders by.

    Parameters
    ----------
    mapper : TopicMapper
        Gives the topic ids (pairs of unknown topics are skipped).
    entity_names, topic_ids, labels : iterables
        The labelled pairs (label 1: the entity belongs to the topic).

    Examples
    --------
    >>> m = TopicMapper(["1", "2"], ["Air Travel", "Music"], [[], []], [[], []])
    >>> pairs = [("Kenya Airways", "1", 1), ("Qatar Airways", "1", 1), ("Kenya Airways", "2", 0)]
    >>> learned = learn_terms(m, *zip(*pairs), min_entities=2)
    >>> round(learned.terms["airway"]["1"], 2), "kenya" in learned.terms
    (0.5, False)
    """
    entity_words: dict[str, set[str]] = {}
    shape_pairs: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    positives: dict[str, set[str]] = defaultdict(set)
    right: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    n_right = n_all = 0
    for name, topic, label in zip(entity_names, topic_ids, labels, strict=True):
        topic = str(topic)
        if topic not in mapper.position or not name or name == UNKNOWN:
            continue
        feats = entity_words.setdefault(name, text_features(name))
        for f in feats:
            if f[0] == "#":
                shape_pairs[f][topic][0] += int(label)
                shape_pairs[f][topic][1] += 1
        right[topic][0] += int(label)
        right[topic][1] += 1
        n_right += int(label)
        n_all += 1
        if int(label):
            positives[topic].add(name)
            if ancestors:
                for a in mapper.ancestors(mapper.position[topic]):
                    positives[mapper.ids[a]].add(name)
    if ontology_names:
        # every topic's English name is an entity of its ancestors (keys prefixed so as not to clash)
        for i, name in enumerate(mapper.names):
            ups = mapper.ancestors(i)
            if name == UNKNOWN or not ups:
                continue
            key = "\0" + name
            entity_words[key] = text_features(name)
            for a in ups:
                positives[mapper.ids[a]].add(key)
    with_word: dict[str, int] = defaultdict(int)
    for ws in entity_words.values():
        for w in ws:
            with_word[w] += 1
    names_with: dict[str, int] = defaultdict(int)  # distinct texts (an entity named like a topic is one)
    for ws in {key.removeprefix("\0"): ws for key, ws in entity_words.items()}.values():
        for w in ws:
            names_with[w] += 1
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for topic, names in positives.items():
        for name in names:
            for w in entity_words[name]:
                counts[w][topic] += 1
    terms = {
        w: {
            t: c / (with_word[w] + smoothing)
            for t, c in ts.items()
            if c >= min_entities
            and names_with[w] >= min_names
            and c / (with_word[w] + smoothing) >= min_weight
        }
        for w, ts in counts.items()
    }
    prior = n_right / n_all if n_all else 1.0
    # a topic's family (the children of its parents) pools its members' pairs: the prior of each
    family: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for t, (r, n) in right.items():
        for p in mapper.parents[mapper.position[t]]:
            family[p][0] += r
            family[p][1] += n
    k = reliability_smoothing
    reliability: dict[str, float] = {}
    for i, t in enumerate(mapper.ids):
        fams = [(r + k * prior) / (n + k) for r, n in (family[p] for p in mapper.parents[i] if p in family)]
        base = sum(fams) / len(fams) if fams else prior
        r, n = right.get(t, (0, 0))
        if n or fams:
            reliability[t] = (r + k * base) / (n + k)
    # a shape's association with a topic: its pairs' share of right labels, shrunk to the topic's
    # reliability (shapes seen only in the ontology's names are left out)
    ks = shape_smoothing
    for f in [f for f in terms if f[0] == "#" and f not in shape_pairs]:
        del terms[f]
    for f, tp in shape_pairs.items():
        terms[f] = {t: (r + ks * reliability[t]) / (n + ks) for t, (r, n) in tp.items() if t in reliability}
    return LearnedTerms({w: ts for w, ts in terms.items() if ts}, reliability, prior)
