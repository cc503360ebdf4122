"""The shift report of the demo data between two versions (what a release would show), with the
rescoring workflow's own report code (:mod:`functions.rescore.report`): the change per profile, its
histogram, Kendall's tau-b on the workflow's deterministic sample, the top-k overlap and the largest
movers; plus the percentiles of both score distributions."""

from __future__ import annotations

from typing import Any

import numpy as np

from functions.rescore import report

__all__ = ["PERCENTILES", "shift_report"]

#: Percentiles of the score distributions the report lists.
PERCENTILES = (5, 25, 50, 75, 95, 99)


def shift_report(
    profile_ids: list[str], old: np.ndarray, new: np.ndarray, version: str, against: str
) -> dict[str, Any]:
    """The workflow's shift report of ``new`` against ``old`` (scores per profile), as one partition,
    with ``distribution``: mean, percentiles and max of both versions' scores.

    Examples
    --------
    >>> r = shift_report(["a", "b", "c"], np.array([10.0, 20, 30]), np.array([12.0, 18, 40]), "v3", "v1")
    >>> r["mean_change"], r["up"], r["down"], r["distribution"]["v3"]["mean"]
    (3.3333, 2, 1, 23.33)
    """
    old = np.round(np.clip(np.asarray(old, np.float64), 1.0, 100.0), 2)
    new = np.round(np.clip(np.asarray(new, np.float64), 1.0, 100.0), 2)
    part = report.partition_part(profile_ids, profile_ids, new, old, {}, report.sample_rate(len(profile_ids)))
    merged = report.merge_parts([part], version, against)
    merged["distribution"] = {
        name: {
            "mean": round(float(scores.mean()), 2),
            **{f"p{q}": round(float(np.percentile(scores, q)), 2) for q in PERCENTILES},
            "max": round(float(scores.max()), 2),
        }
        for name, scores in ((against, old), (version, new))
    }
    return merged


def markdown(r: dict[str, Any], movers: int = 5) -> list[str]:
    """The report as markdown lines (tables of the distribution and of the largest movers)."""
    v, a = r["version"], r["against"]
    dist = r["distribution"]
    cols = ["mean", *(f"p{q}" for q in PERCENTILES), "max"]
    out = [
        f"| version | {' | '.join(c.upper() if c.startswith('p') else c for c in cols)} |",
        "| --- |" + " ---: |" * len(cols),
    ]
    for name in (a, v):
        out.append(f"| {name} | " + " | ".join(f"{dist[name][c]:.2f}" for c in cols) + " |")
    overlap = r["top_k_overlap"]
    out += [
        "",
        f"{r['compared']:,} profiles compared: {r['up']:,} up, {r['down']:,} down, {r['same']:,} unchanged; "
        f"mean change {r['mean_change']:+.2f} points (mean absolute {r['mean_abs_change']:.2f}, "
        f"sd {r['sd_change']:.2f}); {r['moved_10']:,} moved by 10 points or more. Kendall tau-b "
        f"{a} - {v}: {r['kendall_tau_b']} (on the workflow's sample of {r['kendall_sample']:,} profiles). "
        "Top-k overlap: "
        + ", ".join(f"top {k}: {'-' if val is None else f'{val:.0%}'}" for k, val in overlap.items())
        + ".",
        "",
        f"| largest movers | {a} | {v} | change |",
        "| --- | ---: | ---: | ---: |",
    ]
    for m in r["biggest_gains"][:movers] + r["biggest_losses"][:movers]:
        out.append(f"| {m['profile_id']} | {m['old']:.2f} | {m['new']:.2f} | {m['change']:+.2f} |")
    return out
