"""The text-to-topics mapper: names, hierarchy, languages, aliases, disambiguation, learned terms."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputFormatError, InvalidParametersError
from core.topic_eval import LabelledPair, _fold_of, cross_validated_weights, evaluate_pairs, roc_auc
from core.topic_map import UNKNOWN, LearnedTerms, TopicMapper, fold_words, learn_terms, load_learned

DATA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "klout-topics"
needs_data = pytest.mark.skipif(not DATA.exists(), reason=f"Klout topics not found at {DATA}")


def small() -> TopicMapper:
    """Science > Physics > Particle Physics; Music > Rock > Queen (Band); Astronomy > Mercury (planet);
    Chemistry > Mercury (element); an acronym and a French name."""
    names = [
        "Science",  # 0
        "Physics",  # 1
        "Particle Physics",  # 2
        "Music",  # 3
        "Rock Music",  # 4
        "Queen (Band)",  # 5
        "Astronomy",  # 6
        "Mercury",  # 7 planet
        "Chemistry",  # 8
        "Mercury",  # 9 element
        "National Security Agency (NSA)",  # 10
        "Cooking",  # 11
    ]
    parents = [[], [0], [1], [], [3], [4], [0], [6], [0], [8], [], []]
    aliases: list[list[str]] = [[] for _ in names]
    aliases[7] = ["planet mercury"]
    aliases[9] = ["mercury-element"]
    aliases[11] = ["Cuisine"]  # the French display name
    aliases[6] = ["orbit", "planet"]
    aliases[8] = ["metal", "element"]
    ids = [str(100 + i) for i in range(len(names))]
    return TopicMapper(ids, names, parents, aliases, parent_weight=0.8, threshold=0.1)


def named(m: TopicMapper, text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for t, w in m.map(text):
        out.setdefault(m.names[t], round(w, 4))
    return out


def test_a_child_supports_its_parents_with_the_documented_weight() -> None:
    m = small()
    got = {m.names[t]: w for t, w in m.map("particle physics")}
    assert got["Particle Physics"] == pytest.approx(1.0)
    assert got["Physics"] == pytest.approx(0.8)
    assert got["Science"] == pytest.approx(0.64)
    assert "Music" not in got


def test_other_languages_aliases_acronyms_and_hashtags() -> None:
    m = small()
    assert "Cooking" in named(m, "la cuisine")
    assert "National Security Agency (NSA)" in named(m, "the NSA leaks")
    assert "National Security Agency (NSA)" in named(m, "national security agency")
    assert "Particle Physics" in named(m, "New #ParticlePhysics result")
    assert "Particle Physics" in named(m, "#particlephysics")
    # accents, case and plural fold the same way on both sides
    assert fold_words("Particle PHYSICS") == fold_words("particle physics")


def test_a_match_inside_a_longer_text_weighs_less_and_sub_matches_are_dropped() -> None:
    m = small()
    alone = dict(m.map("physics"))
    inside = dict(m.map("physics is what I do all day"))
    assert inside[1] < alone[1]
    # "particle physics" covers "physics": Physics gets only what the child passes up
    got = dict(m.map("particle physics"))
    assert got[1] == pytest.approx(0.8 * got[2])


def test_an_ambiguous_name_is_resolved_by_the_words_around_it() -> None:
    m = small()
    planet = dict(m.map("Mercury seen in orbit tonight"))
    metal = dict(m.map("Mercury is a toxic metal element"))
    assert planet[7] > planet[9]
    assert metal[9] > metal[7]
    bare = dict(m.map("Mercury"))
    assert bare[7] == pytest.approx(bare[9])  # no context: the match is shared


def test_named_topics_rank_above_their_ancestors_and_everything_inferred() -> None:
    m = small()
    # a learned term pointing at Science strongly, and a poor reliability for Particle Physics
    m.set_learned(LearnedTerms({"announce": {"100": 0.9, "103": 0.5}}, {"102": 0.2, "100": 1.0}, 0.9))
    ranked = [(m.names[t], w) for t, w in m.map("Particle physics announces news today")]
    assert ranked[0][0] == "Particle Physics"
    got = dict(ranked)
    assert got["Particle Physics"] == pytest.approx((2 / 5) ** 0.5)  # the name weight, not discounted
    assert got["Physics"] < got["Particle Physics"] and got["Science"] < got["Particle Physics"]
    assert got["Music"] <= 0.8 * got["Particle Physics"]
    # without a name in the text the learned evidence stands as it is
    assert dict((m.names[t], w) for t, w in m.map("announces news today"))["Science"] > 0.5
    # two names: both before any topic the text does not name
    two = [m.names[t] for t, _ in m.map("Particle physics and cooking announces")]
    assert set(two[:2]) == {"Particle Physics", "Cooking"}


def test_a_topic_the_text_says_nothing_about_is_ordered_by_its_prior_below_every_listed_one() -> None:
    m = small()
    m.set_learned(LearnedTerms({}, {"103": 0.9, "111": 0.3}, 0.6))
    listed = dict(m.map("particle physics"))
    assert 3 not in listed and 11 not in listed  # Music and Cooking: not listed
    assert 0 < m.prior(11) < m.prior(3) < min(listed.values())
    text = "particle physics"
    pairs = [LabelledPair("Q1", text, "103", 1), LabelledPair("Q1", text, "111", 0)]
    assert evaluate_pairs(m, pairs).auc == 1.0


@needs_data
def test_the_real_ontology_puts_named_topics_first() -> None:
    m = TopicMapper.load(DATA)
    top = [m.names[t] for t, _ in m.map("Sony announces a new PlayStation")[:2]]
    assert set(top) == {"Sony", "PlayStation"}
    assert m.names[m.map("#MachineLearning")[0][0]] == "Machine Learning"


def test_learned_terms_need_entities_and_weigh_their_share() -> None:
    m = small()
    pairs = [
        ("Kurzweil Synth", "103", 1),
        ("Moog Synth", "103", 1),
        ("Moog Synth", "108", 0),
        ("Casio Synth", "108", 0),
        (UNKNOWN, "103", 1),
    ]
    learned = learn_terms(m, *zip(*pairs, strict=True), min_entities=2, ontology_names=False)
    assert learned.terms["synth"]["103"] == pytest.approx(2 / (3 + 2.0))
    assert "kurzweil" not in learned.terms  # one entity never makes a term at min_entities=2
    assert learned.reliability["108"] < learned.reliability["103"]
    m.set_learned(learned)
    assert "Music" in named(m, "a new synth")


def test_a_feature_only_one_labelled_name_has_is_never_learned() -> None:
    m = small()
    pairs = [("Kurzweil Synth", "103", 1), ("Moog Synth", "103", 1), ("Moog Synth", "108", 0)]
    learned = learn_terms(m, *zip(*pairs, strict=True), ontology_names=False)
    assert "synth" in learned.terms  # two names have it
    assert not {"kurzweil", "kurzweil_synth", "moog", "moog_synth"} & set(learned.terms)
    one = learn_terms(m, *zip(*pairs, strict=True), ontology_names=False, min_names=1)
    assert "kurzweil" in one.terms  # what the default leaves out


@needs_data
def test_the_shipped_terms_hold_no_feature_of_a_single_dev_entity() -> None:
    from core.topic_eval import read_labels
    from core.topic_map import text_features

    names = {p.entity_name for p in read_labels(DATA / "entity_topic_labels_dev.csv")} - {UNKNOWN}
    names |= set(TopicMapper.load(DATA, learned=None).names)
    seen: dict[str, int] = {}
    for name in names:
        for f in text_features(name):
            seen[f] = seen.get(f, 0) + 1
    shipped = load_learned()
    words = [w for w in shipped.terms if not w.startswith("#")]
    assert len(words) > 1000
    assert [w for w in words if seen.get(w, 0) < 2] == []


def test_the_service_counts_only_the_topics_a_term_names_and_those_above() -> None:
    m = small()
    m.set_learned(LearnedTerms({"synth": {"103": 0.9}}, {}, 1.0))  # a word learned for Music
    assert "Music" in named(m, "synth")  # the mapper infers it
    assert m.evidence_of("synth") == []  # the service does not count an inference
    got = [(m.names[t], round(w, 2)) for t, w in m.evidence_of("#physics")]
    assert got == [("Physics", 1.0), ("Science", 0.8)]


def test_roc_auc_agrees_with_counting_pairs() -> None:
    rng = np.random.default_rng(3)
    s = rng.integers(0, 5, 60).astype(float)
    y = rng.integers(0, 2, 60)
    wins = sum((a > b) + 0.5 * (a == b) for a, b in itertools.product(s[y == 1], s[y == 0]))
    assert roc_auc(s, y) == pytest.approx(wins / ((y == 1).sum() * (y == 0).sum()))
    with pytest.raises(InvalidParametersError):
        roc_auc([1.0, 2.0], [1, 1])


def test_evaluation_leaves_unnamed_entities_out_and_folds_keep_entities_apart() -> None:
    m = small()
    pairs = [
        LabelledPair("Q1", "Particle Physics", "101", 1),
        LabelledPair("Q1", "Particle Physics", "103", 0),
        LabelledPair("Q2", UNKNOWN, "101", 1),
    ]
    a = evaluate_pairs(m, pairs)
    assert (a.pairs, a.unnamed, a.auc, a.precision, a.recall) == (2, 1, 1.0, 1.0, 1.0)
    # a word seen only in a test entity is never learned for it
    many = [LabelledPair(f"Q{i}", f"zork{i} thing", "103", 1) for i in range(40)]
    many += [LabelledPair(f"Q{i}", f"zork{i} thing", "101", 0) for i in range(40)]
    weights, labels = cross_validated_weights(small(), many, folds=4)
    assert len(weights) == len(labels) == 80
    assert len({_fold_of(p.entity_id, 4) for p in many}) == 4


def test_bad_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParametersError):
        TopicMapper(["1"], ["a", "b"], [[]], [[]])
    with pytest.raises(InputFormatError):
        TopicMapper.load(tmp_path)
    bad = tmp_path / "t.json"
    bad.write_text("{}")
    with pytest.raises(InputFormatError):
        load_learned(bad)
    good = tmp_path / "g.json"
    good.write_text(json.dumps(LearnedTerms({"w": {"1": 0.5}}, {"1": 0.9}, 0.6).to_json()))
    assert load_learned(good).terms == {"w": {"1": 0.5}}


@needs_data
def test_the_real_ontology_maps_names_and_their_ancestors() -> None:
    m = TopicMapper.load(DATA)
    got = {m.names[t]: w for t, w in m.map("quantum physics")}
    assert got.get("Physics", 0.0) >= m.threshold
    assert got.get("Science", 0.0) > 0
    assert m.map("") == []
