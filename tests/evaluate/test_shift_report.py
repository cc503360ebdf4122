"""The demo data's shift report in ``docs/evaluation.md``: the workflow's report code on two versions'
scores, with the distributions' percentiles."""

from __future__ import annotations

import numpy as np

from renown.evaluate.cases import Sizes
from renown.evaluate.runner import Evaluation
from renown.evaluate.shift import markdown, shift_report


def test_shift_report_matches_direct_figures() -> None:
    rng = np.random.default_rng(4)
    ids = [f"p{i}" for i in range(3000)]
    old = rng.uniform(1, 100, size=3000).round(2)
    new = np.clip(old + rng.normal(0, 5, size=3000), 1, 100).round(2)
    r = shift_report(ids, old, new, "v3", "v1")
    assert r["mean_change"] == round(float((new - old).mean()), 4)
    assert r["distribution"]["v3"]["p95"] == round(float(np.percentile(new, 95)), 2)
    assert r["distribution"]["v1"]["mean"] == round(float(old.mean()), 2)
    top_old = set(np.argsort(-old, kind="stable")[:100].tolist())
    top_new = set(np.argsort(-new, kind="stable")[:100].tolist())
    assert r["top_k_overlap"]["100"] == len(top_old & top_new) / 100
    gains = r["biggest_gains"]
    assert gains[0]["change"] == round(float((new - old).max()), 2)
    assert 0.8 < r["kendall_tau_b"] < 1.0
    lines = markdown(r)
    assert lines[0].startswith("| version | mean | P5 |") and any(gains[0]["profile_id"] in x for x in lines)


def test_evaluation_reports_the_shift_from_the_first_version_to_the_last() -> None:
    ev = Evaluation(["v1", "v3"], 1, Sizes.quick())
    assert ev.shift() is None
    ev.higgs_profiles = ["a", "b", "c"]
    ev.higgs_scores = {"v1": np.array([34.0, 60.0, 80.0]), "v3": np.array([14.0, 30.0, 70.0])}
    r = ev.shift()
    assert r is not None and (r["against"], r["version"]) == ("v1", "v3") and r["down"] == 3
