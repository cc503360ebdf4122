"""``renown evaluate``: measure algorithm versions against the score-integrity attacks and properties.

``renown evaluate [--version V ...] [--seed N] [--quick] [--no-higgs] [--only CASE ...] [--json]
[--write-docs]``

``renown evaluate --topics [--labels F] [--folds K] [--json]``: the topic mapper against Klout's labelled
entity-topic pairs (ROC AUC, precision, recall; ``core.topic_eval``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

CASE_NAMES = (
    "hub",
    "single",
    "drop",
    "farms",
    "ring",
    "pod",
    "swap",
    "linking",
    "calibration",
    "unique",
    "selective",
    "volume",
    "silence",
    "networks",
    "determinism",
    "explain",
    "rankings",
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "evaluate",
        help="run the attacks and properties of the score on generated populations and Higgs",
        description=(
            "Score a generated heavy-tailed population (own seed) and the Higgs networks with each version, "
            "run the attacks (one-engagement hub, farms, rings, pods, swaps, linking) and the properties "
            "(breadth, stability, calibration, decay, determinism, explanations), and print a table of the "
            "figure, the bound and whether it holds, one column pair per version."
        ),
    )
    p.add_argument(
        "--version",
        action="append",
        metavar="NAME",
        help="algorithm version (repeat for several; default v1)",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the generated population and attacks (1)")
    p.add_argument(
        "--quick", action="store_true", help="small sizes and no Kendall tau (well under a minute)"
    )
    p.add_argument("--no-higgs", action="store_true", help="skip the Higgs networks")
    p.add_argument(
        "--higgs-dir",
        metavar="DIR",
        help="directory of the Higgs edge lists (default $RENOWN_DATASETS_DIR/higgs-twitter)",
    )
    p.add_argument(
        "--only",
        action="append",
        choices=CASE_NAMES,
        metavar="CASE",
        help=f"run only these cases (repeatable): {', '.join(CASE_NAMES)}",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    p.add_argument(
        "--write-docs", action="store_true", help="write docs/evaluation.md and its figures in docs/figures/"
    )
    p.add_argument("--docs-root", metavar="DIR", help="root holding docs/ (default: the repository)")
    p.add_argument(
        "--topics",
        action="store_true",
        help="measure the topic mapper against Klout's labelled entity-topic pairs instead",
    )
    p.add_argument(
        "--labels",
        metavar="F",
        help="labelled pairs for --topics (default: the dev half, cross-validated by entity)",
    )
    p.add_argument(
        "--folds",
        type=int,
        metavar="K",
        help="learn the terms on K-1 folds of entities of the labels and measure on the last, in turn "
        "(default 5 on the dev half; with --labels, the shipped terms are used unless --folds is given)",
    )
    return p


def run_topics(args: argparse.Namespace) -> int:
    """``renown evaluate --topics``: AUC, precision and recall of the mapper on a labels file."""
    from core.errors import RenownCoreError
    from core.topic_eval import evaluate_pairs, held_out, read_labels
    from core.topic_map import TopicMapper
    from renown.commands.topics import DEV_LABELS, topics_dir

    folder = topics_dir()
    labels = Path(args.labels) if args.labels else folder / DEV_LABELS
    folds = args.folds if args.folds is not None else (0 if args.labels else 5)
    per_fold: list[Any] = []
    try:
        pairs = read_labels(labels)
        if folds:
            agreement, per_fold = held_out(TopicMapper.load(folder, learned=None), pairs, folds)
            how = (
                f"held out by entity: everything learned from labels is learned on {folds - 1}/{folds} "
                "of the entities and measured on the rest, in turn"
            )
        else:
            agreement = evaluate_pairs(TopicMapper.load(folder), pairs)
            how = "the shipped terms (learned on the dev half)"
    except (RenownCoreError, OSError) as exc:
        print(f"renown evaluate: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = {"labels": str(labels), "folds": folds, **agreement.as_dict()}
        if per_fold:
            out["per_fold"] = [a.as_dict() for a in per_fold]
        print(json.dumps(out, indent=1))
        return 0
    a = agreement
    print(f"topic mapper vs {labels.name}: {how}")
    print(
        f"  pairs with a named entity  {a.pairs} ({a.positives} labelled 1); unnamed, left out: {a.unnamed}"
    )
    print(f"  ROC AUC                    {a.auc:.4f}   (target >= 0.80)")
    print(f"  precision at {a.threshold:<13} {a.precision:.4f}   (target >= 0.80)")
    print(f"  recall at {a.threshold:<16} {a.recall:.4f}   (target >= 0.40)")
    for k, f in enumerate(per_fold):
        print(
            f"  held-out fold {k + 1}/{folds}: {f.pairs:5d} pairs  AUC {f.auc:.4f}  "
            f"precision {f.precision:.4f}  recall {f.recall:.4f}"
        )
    return 0


def _command_line(args: argparse.Namespace) -> str:
    parts = ["renown", "evaluate"]
    for v in args.version:
        parts += ["--version", v]
    if args.seed != 1:
        parts += ["--seed", str(args.seed)]
    for flag in ("quick", "no_higgs"):
        if getattr(args, flag):
            parts.append("--" + flag.replace("_", "-"))
    for o in args.only or []:
        parts += ["--only", o]
    parts.append("--write-docs")
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    from core.errors import RenownCoreError
    from core.versions import get_version
    from renown.evaluate.cases import Sizes
    from renown.evaluate.population import datasets_dir
    from renown.evaluate.report import text_table, write_docs
    from renown.evaluate.runner import evaluate

    if args.topics:
        return run_topics(args)
    args.version = args.version or ["v1"]
    try:
        for v in args.version:
            get_version(v)
    except RenownCoreError as exc:
        print(f"renown evaluate: error: {exc}", file=sys.stderr)
        return 2
    higgs_dir = Path(args.higgs_dir) if args.higgs_dir else datasets_dir() / "higgs-twitter"
    higgs = not args.no_higgs
    if higgs and not (higgs_dir / "mention_network.edgelist").exists():
        print(f"renown evaluate: Higgs networks not found in {higgs_dir}; skipping them", file=sys.stderr)
        higgs = False

    def progress(msg: str) -> None:
        print(f"renown evaluate: {msg}", file=sys.stderr, flush=True)

    only = tuple(args.only) if args.only else None
    try:
        ev = evaluate(
            args.version,
            seed=args.seed,
            sizes=Sizes.quick() if args.quick else Sizes(),
            higgs=higgs,
            higgs_dir=str(higgs_dir),
            only=only,
            rankings=not args.quick,
            progress=progress,
        )
    except (RenownCoreError, OSError) as exc:
        print(f"renown evaluate: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(ev.to_dict(), indent=1, allow_nan=False))
    else:
        print(text_table(ev))
    if args.write_docs:
        root = Path(args.docs_root) if args.docs_root else Path(__file__).resolve().parents[2]
        page = write_docs(ev, root, _command_line(args))
        progress(f"wrote {page}")
    return 0
