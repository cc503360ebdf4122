"""Output of the evaluation: the printed table, JSON, and ``docs/evaluation.md`` with its figures."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from renown.evaluate import cases as cases_mod
from renown.evaluate.cases import Case
from renown.evaluate.population import generate_population
from renown.evaluate.runner import Evaluation
from renown.evaluate.shift import markdown as shift_markdown

__all__ = ["markdown_table", "text_table", "write_docs"]


def _rows(ev: Evaluation) -> list[tuple[str, str, str, dict[str, Case]]]:
    """(key, label, bound, {version: case}) in first-seen order."""
    out: dict[tuple[str, str], tuple[str, str, str, dict[str, Case]]] = {}
    for c in ev.cases:
        pop = "higgs" if c.population == "higgs" else "generated"
        k = (c.key, pop)
        if k not in out:
            out[k] = (c.key, f"{c.title} [{pop}]", c.bound.text, {})
        out[k][3][c.version] = c
    return list(out.values())


def _fmt(c: Case | None) -> tuple[str, str]:
    if c is None:
        return "-", ""
    v = c.value
    if not math.isfinite(v):
        s = "inf"
    elif (
        c.unit == "points"
        and c.key.startswith(("sybil", "collusion", "linking"))
        and "bystander" not in c.key
    ):
        s = f"{v:+.2f}"
    else:
        s = f"{v:.2f}"
    if c.unit == "%":
        s += "%"
    return s, ("yes" if c.holds else "NO")


def text_table(ev: Evaluation) -> str:
    """The printed table: case, bound, and per version the figure and whether the bound holds."""
    rows = _rows(ev)
    w = max([len(r[1]) for r in rows] + [4])
    head = f"{'case':<{w}}  {'bound':<12}" + "".join(f"  {v:>10} {'holds':>5}" for v in ev.versions)
    lines = [head, "-" * len(head)]
    for _key, label, bound, per in rows:
        cells = "".join(f"  {_fmt(per.get(v))[0]:>10} {_fmt(per.get(v))[1]:>5}" for v in ev.versions)
        lines.append(f"{label:<{w}}  {bound:<12}{cells}")
    lines.append("-" * len(head))
    summary = ", ".join(f"{v}: {ev.holds(v)[0]}/{ev.holds(v)[1]} hold" for v in ev.versions)
    lines.append(f"{summary}  ({ev.seconds:.0f}s, seed {ev.seed})")
    return "\n".join(lines)


def markdown_table(ev: Evaluation) -> str:
    head = "| case | bound | " + " | ".join(f"{v} | holds" for v in ev.versions) + " |"
    sep = "| --- | --- | " + " | ".join("---: | :---:" for _ in ev.versions) + " |"
    lines = [head, sep]
    for _key, label, bound, per in _rows(ev):
        cells = " | ".join(" | ".join(_fmt(per.get(v))) for v in ev.versions)
        lines.append(f"| {label} | {bound} | {cells} |")
    return "\n".join(lines)


# ---- figures ------------------------------------------------------------------------------------------


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _fig_histogram(ev: Evaluation, path: Path) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, len(ev.higgs_scores), figsize=(5 * len(ev.higgs_scores), 3.4), squeeze=False)
    for ax, (v, s) in zip(axes[0], ev.higgs_scores.items(), strict=True):
        ax.hist(s, bins=np.arange(0, 101, 1), color="#4c72b0")
        ax.set_yscale("log")
        vals, counts = np.unique(s, return_counts=True)
        ax.set_title(
            f"{v}: Higgs scores (largest tie {100 * counts.max() / len(s):.1f}%"
            f" at {vals[counts.argmax()]:.1f})",
            fontsize=9,
        )
        ax.set_xlabel("score")
        ax.set_ylabel("accounts (log)")
        ax.axvline(63, color="#c44e52", lw=0.8, ls="--")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fig_attacks(ev: Evaluation, path: Path) -> None:
    plt = _plt()
    rows = [
        r
        for r in _rows(ev)
        if r[0].startswith(("sybil", "collusion", "linking", "breadth.hub"))
        and r[0].endswith(("target", "ring", "pod", "swap", "idle", "own_second", "hub_one_engagement"))
    ]
    labels = [r[1].replace(": target gain", "") for r in rows]
    fig, ax = plt.subplots(figsize=(10, 0.38 * len(rows) + 1.2))
    h = 0.8 / max(1, len(ev.versions))
    y = np.arange(len(rows))
    colors = ["#c44e52", "#4c72b0", "#55a868", "#8172b2", "#ccb974"]
    for k, v in enumerate(ev.versions):
        vals = [r[3][v].value if v in r[3] else np.nan for r in rows]
        ax.barh(y + k * h, vals, height=h, label=v, color=colors[k % len(colors)])
    for i, r in enumerate(rows):
        any_case = next(iter(r[3].values()))
        hi = any_case.bound.hi
        if math.isfinite(hi):
            ax.plot([hi, hi], [i - 0.1, i + 0.8], color="black", lw=1.2)
    ax.set_yticks(y + 0.4 - h / 2, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("points gained (newcomer: its score); black tick = bound")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fig_stability(ev: Evaluation, path: Path) -> None:
    plt = _plt()
    drops = [c for c in ev.cases if c.key == "breadth.edge_drop"]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for c in drops:
        pop = "higgs" if c.population == "higgs" else "generated"
        d = c.detail["drops"]
        ax.plot(range(1, len(d) + 1), [x["max"] for x in d], marker="o", label=f"{c.version} {pop}: max")
        ax.plot(
            range(1, len(d) + 1), [x["p99"] for x in d], marker="x", ls=":", label=f"{c.version} {pop}: P99"
        )
    ax.axhline(10, color="black", lw=0.8, ls="--", label="bound 10")
    ax.set_xlabel("random 1% edge drop")
    ax.set_ylabel("score move (points)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---- docs ---------------------------------------------------------------------------------------------

_HOW = [
    ("breadth.hub_one_engagement", cases_mod.hub_one_engagement),
    ("breadth.single_engager", cases_mod.single_engager_vs_median),
    ("breadth.edge_drop", cases_mod.edge_drop_stability),
    ("sybil.farm*", cases_mod.build_farm),
    ("sybil.farm* (measure)", cases_mod.farms),
    ("collusion.ring", cases_mod.ring),
    ("collusion.pod", cases_mod.pod),
    ("collusion.swap", cases_mod.swaps),
    ("linking.*", cases_mod.linking),
    ("calibration.*", cases_mod.calibration_population),
    ("still.unique_engagers", cases_mod.unique_vs_repeated),
    ("still.selective", cases_mod.selective),
    ("still.volume", cases_mod.volume),
    ("still.silence*", cases_mod.silence),
    ("still.networks_add_up", cases_mod.networks_add_up),
    ("still.determinism", cases_mod.determinism),
    ("explain.top_engager", cases_mod.explanation_faithfulness),
]


def _doc(fn: Any) -> str:
    return " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())


def write_docs(ev: Evaluation, root: Path, command: str) -> Path:
    """Write ``docs/evaluation.md`` and ``docs/figures/*.png`` under ``root``; return the page path."""
    docs = root / "docs"
    figs = docs / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    images: list[tuple[str, str]] = []
    if ev.higgs_scores:
        _fig_histogram(ev, figs / "evaluation-higgs-histogram.png")
        images.append(("Score histogram on Higgs", "figures/evaluation-higgs-histogram.png"))
    _fig_attacks(ev, figs / "evaluation-attack-gains.png")
    images.append(("Gain of each attack, per version", "figures/evaluation-attack-gains.png"))
    if any(c.key == "breadth.edge_drop" for c in ev.cases):
        _fig_stability(ev, figs / "evaluation-edge-drops.png")
        images.append(("Stability under five random 1% edge drops", "figures/evaluation-edge-drops.png"))

    out: list[str] = [
        "# Evaluation of the score: attacks, properties and rankings",
        "",
        "Generated by `renown evaluate --write-docs` (do not edit by hand). Reproduce with:",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Versions: {', '.join(ev.versions)}; seed {ev.seed}; {ev.seconds:.0f} s on this machine. "
        "Every case builds accounts and engagements and calls `core.scoring.score_population` with the "
        "version name, so any published version is evaluated with no code change "
        "(`renown evaluate --version v1 --version v3`). The bounds are the score-integrity targets "
        '(docs/algorithm.md, "Score integrity").',
        "",
        "Populations:",
        "",
    ]
    for name, d in ev.populations.items():
        out.append(
            f"* `{name}`: {d['accounts']:,} accounts, {d['profiles']:,} profiles, "
            f"{d['engagements']:,} engagement rows"
        )
    out += [
        "",
        "The generated population (`renown.evaluate.population.generate_population`): "
        + textwrap.dedent("    " + (generate_population.__doc__ or "").strip()).strip(),
        "",
        "## Results",
        "",
        "Points gained are measured against the same population without the attack, or against an "
        "identical idle twin in the same run. `holds` says whether the figure is within the bound.",
        "",
        markdown_table(ev),
        "",
        ", ".join(f"**{v}**: {ev.holds(v)[0]} of {ev.holds(v)[1]} hold" for v in ev.versions) + ".",
        "",
    ]
    for title, rel in images:
        out += [f"### {title}", "", f"![{title}]({rel})", ""]
    if ev.rankings:
        out += [
            "## Ranking on Higgs against simple baselines",
            "",
            "Kendall tau-b of the account scores (by raw influence) against each baseline, and the share of "
            "the top 100 in common.",
            "",
            "| version | baseline | Kendall tau | top-100 overlap |",
            "| --- | --- | ---: | ---: |",
        ]
        for v, per in ev.rankings.items():
            for name, r in per.items():
                out.append(f"| {v} | {name} | {r['kendall_tau']:.3f} | {r['top100_overlap']:.2f} |")
        out.append("")
    shift = ev.shift()
    if shift is not None:
        out += [
            f"## Shift report of the demo data: {shift['against']} -> {shift['version']}",
            "",
            "The Higgs reply and mention networks (what `make run` replays) scored with both versions, "
            "compared by the rescoring workflow's own shift report (`functions.rescore.report`, what a "
            "release shows before activation): how the distribution of scores moves, the rank "
            "agreement and the profiles that move most.",
            "",
            *shift_markdown(shift),
            "",
        ]
    farm_rows = [c for c in ev.cases if c.key.startswith("sybil.farm") and c.key.endswith(".target")]
    if farm_rows:
        out += [
            "## Farms: what the rank buys and what the refit moves",
            "",
            "The same farms scored under the base population's stored calibration table (no refit on the "
            "bots): the target gain left is what the farm's rank buys; the bystander move left comes from "
            "the bots' share of the teleport and of the rank unit.",
            "",
            "| version | farm | target gain (refit) | target gain (stored table) | median bystander abs move "
            "(stored table) |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for c in farm_rows:
            d = c.detail
            out.append(
                f"| {c.version} | {c.title.replace(': target gain', '')} | {c.value:+.2f} | "
                f"{d['stored_table_target_gain']:+.2f} | {d['stored_table_bystander']:.2f} |"
            )
        out.append("")
    drops = [c for c in ev.cases if c.key == "breadth.edge_drop"]
    if drops:
        out += [
            "## Stability under random 1% edge drops",
            "",
            "| version | population | drop | max move | P99.9 | P99 | mean |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for c in drops:
            pop = "higgs" if c.population == "higgs" else "generated"
            for i, d in enumerate(c.detail["drops"], 1):
                out.append(
                    f"| {c.version} | {pop} | {i} | {d['max']:.2f} | {d['p999']:.2f} | {d['p99']:.2f} | "
                    f"{d['mean']:.3f} |"
                )
        out.append("")
    out += ["## How each case is measured", ""]
    for key, fn in _HOW:
        out.append(f"* `{key}`: {_doc(fn)}")
    out.append("")
    page = docs / "evaluation.md"
    page.write_text("\n".join(out), encoding="utf-8")
    return page
