"""How well a :class:`core.topic_map.TopicMapper` agrees with Klout's labelled entity-topic pairs.

For each labelled pair with a known entity name, the *weight* is the weight the mapper gives the
pair's topic when it maps the entity's name (the topic's prior, :meth:`TopicMapper.prior`, when
the name gives it no weight; 0 for a topic not in the ontology). :func:`evaluate_pairs`
reports the ROC AUC of the weights against the labels (ties counted half) and the precision and
recall of the pairs the mapper asserts (weight at least its threshold). Pairs whose entity has no
name (``_display_unknown_``: only a Wikidata id) carry no text to map: they are counted apart
(``unnamed``) and left out of the figures. :func:`cross_validate` learns the terms on all entities
but one fold's and measures on that fold (folds by entity), so dev figures are not in-sample.
"""

from __future__ import annotations

import csv
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import InputFormatError, InvalidParametersError
from core.topic_map import UNKNOWN, TopicMapper, learn_terms

__all__ = [
    "LabelledPair",
    "TopicAgreement",
    "cross_validate",
    "evaluate_pairs",
    "held_out",
    "read_labels",
    "roc_auc",
]


@dataclass(frozen=True)
class LabelledPair:
    """One row of ``entity_topic_labels_*.csv``."""

    entity_id: str
    entity_name: str
    topic_id: str
    label: int


@dataclass(frozen=True)
class TopicAgreement:
    """Agreement of the mapper's weights with the labels."""

    pairs: int
    positives: int
    unnamed: int
    auc: float
    precision: float
    recall: float
    threshold: float

    def as_dict(self) -> dict[str, float | int]:
        """The figures as a dict."""
        return asdict(self)


def read_labels(path: str | os.PathLike[str]) -> list[LabelledPair]:
    """Read Klout's labelled pairs (columns ``entityId, entityDisplayName, topicId, label``).

    Examples
    --------
    >>> d = "/work/shared/datasets/klout-topics/entity_topic_labels_dev.csv"
    >>> rows = read_labels(d) if os.path.exists(d) else [LabelledPair("Q1", "x", "1", 1)]
    >>> all(r.label in (0, 1) for r in rows)
    True
    """
    out: list[LabelledPair] = []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            for lineno, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    label = int(row["label"])
                    if label not in (0, 1):
                        raise ValueError(label)
                    out.append(
                        LabelledPair(row["entityId"], row["entityDisplayName"], str(row["topicId"]), label)
                    )
                except (KeyError, ValueError, TypeError) as exc:
                    raise InputFormatError(f"bad labelled pair ({exc})", os.fspath(path), lineno) from None
    except OSError as exc:
        raise InputFormatError(f"cannot read the labels: {exc}", os.fspath(path)) from None
    return out


def roc_auc(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic, ties counted half).

    Examples
    --------
    >>> roc_auc([0.9, 0.5, 0.5, 0.0], [1, 1, 0, 0])
    0.875
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise InvalidParametersError("the AUC needs both positive and negative labels")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # average ranks over ties
    bounds = np.flatnonzero(np.diff(sorted_s)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(s)]))
    for a, b in zip(starts, ends, strict=True):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _weights(mapper: TopicMapper, pairs: Sequence[LabelledPair]) -> np.ndarray:
    cache: dict[str, dict[int, float]] = {}
    out = np.zeros(len(pairs))
    for k, pair in enumerate(pairs):
        if pair.entity_name not in cache:
            cache[pair.entity_name] = mapper.weights(pair.entity_name)
        t = mapper.position.get(pair.topic_id)
        out[k] = cache[pair.entity_name].get(t) or mapper.prior(t) if t is not None else 0.0
    return out


def _agreement(weights: np.ndarray, labels: np.ndarray, unnamed: int, threshold: float) -> TopicAgreement:
    asserted = weights >= threshold
    hits = int((asserted & (labels == 1)).sum())
    return TopicAgreement(
        pairs=len(labels),
        positives=int(labels.sum()),
        unnamed=unnamed,
        auc=round(roc_auc(weights, labels), 4),
        precision=round(hits / int(asserted.sum()), 4) if asserted.any() else 0.0,
        recall=round(hits / int(labels.sum()), 4),
        threshold=threshold,
    )


def evaluate_pairs(mapper: TopicMapper, pairs: Sequence[LabelledPair]) -> TopicAgreement:
    """Agreement of ``mapper`` with the named pairs of ``pairs`` (see the module docstring).

    Examples
    --------
    >>> m = TopicMapper(["1", "2"], ["Physics", "Music"], [[], []], [[], []])
    >>> pairs = [LabelledPair("Q1", "Physics", "1", 1), LabelledPair("Q1", "Physics", "2", 0),
    ...          LabelledPair("Q2", UNKNOWN, "2", 0)]
    >>> a = evaluate_pairs(m, pairs)
    >>> (a.pairs, a.unnamed, a.auc, a.precision, a.recall)
    (2, 1, 1.0, 1.0, 1.0)
    """
    named = [p for p in pairs if p.entity_name and p.entity_name != UNKNOWN]
    labels = np.array([p.label for p in named], dtype=np.int64)
    return _agreement(_weights(mapper, named), labels, len(pairs) - len(named), mapper.threshold)


def _fold_of(entity_id: str, folds: int) -> int:
    return zlib.crc32(entity_id.encode()) % folds


def cross_validate(
    build: Callable[[], TopicMapper], pairs: Sequence[LabelledPair], folds: int = 5
) -> TopicAgreement:
    """Agreement measured fold by fold: terms learned on the other folds' entities, weights pooled.

    ``build`` makes a mapper without learned terms (the ontology alone); each fold's learned terms
    are set on it (:func:`core.topic_map.learn_terms`). Entities go to folds by a hash of their id.
    """
    return held_out(build(), pairs, folds)[0]


def held_out(
    mapper: TopicMapper, pairs: Sequence[LabelledPair], folds: int = 5
) -> tuple[TopicAgreement, list[TopicAgreement]]:
    """The agreement on held-out entities: pooled over the folds, and fold by fold.

    Everything the mapper learns from labels (:func:`core.topic_map.learn_terms`: terms,
    reliabilities, shapes) is learned on the other folds' entities only; ``mapper``'s learned terms
    are replaced. The unnamed pairs are counted in the pooled figure only.

    Examples
    --------
    >>> m = TopicMapper(["1", "2"], ["Physics", "Music"], [[], []], [[], []])
    >>> pairs = [LabelledPair(f"Q{i}", n, t, y) for i in range(20)
    ...          for n, t, y in (("physics", "1", 1), ("physics", "2", 0))]
    >>> pooled, per_fold = held_out(m, pairs, folds=2)
    >>> pooled.auc, len(per_fold), sum(a.pairs for a in per_fold) == pooled.pairs
    (1.0, 2, True)
    """
    named = [p for p in pairs if p.entity_name and p.entity_name != UNKNOWN]
    weights, labels = cross_validated_weights(mapper, named, folds)
    fold = np.array([_fold_of(p.entity_id, folds) for p in named], dtype=np.int64)
    pooled = _agreement(weights, labels, len(pairs) - len(named), mapper.threshold)
    per_fold = []
    for f in range(folds):
        idx = fold == f
        if idx.any() and 0 < labels[idx].sum() < idx.sum():
            per_fold.append(_agreement(weights[idx], labels[idx], 0, mapper.threshold))
    return pooled, per_fold


def cross_validated_weights(
    mapper: TopicMapper, pairs: Sequence[LabelledPair], folds: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """The weights and labels of the named pairs, each fold's weights from terms learned on the
    others (see :func:`cross_validate`); ``mapper``'s learned terms are replaced.
    """
    if folds < 2:
        raise InvalidParametersError("folds must be >= 2")
    named = [p for p in pairs if p.entity_name and p.entity_name != UNKNOWN]
    weights = np.zeros(len(named))
    fold = np.array([_fold_of(p.entity_id, folds) for p in named])
    for f in range(folds):
        train = [p for p, k in zip(named, fold, strict=True) if k != f]
        mapper.set_learned(learn_terms(mapper, *_columns(train)))
        test_idx = np.flatnonzero(fold == f)
        weights[test_idx] = _weights(mapper, [named[i] for i in test_idx])
    return weights, np.array([p.label for p in named], dtype=np.int64)


def _columns(pairs: Sequence[LabelledPair]) -> tuple[list[str], list[str], list[int]]:
    return [p.entity_name for p in pairs], [p.topic_id for p in pairs], [p.label for p in pairs]
