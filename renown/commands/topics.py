"""``renown topics``: map text onto the Klout topic ontology, and learn the mapper's terms.

``renown topics map [TEXT...] [--file F] [--json] [--all]`` maps each argument (or each line of F) and
prints its topics; ``--json`` prints one JSON object per input, ``{"text", "topics": [{"id", "name",
"weight"}, ...]}`` with every topic of weight above 0, strongest first. ``renown topics learn
[--labels F] [--out F]`` learns the terms and topic reliabilities from Klout's labelled pairs
(by default the dev half, written to the file the mapper ships with).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from core.topic_map import DEFAULT_LEARNED

TOPICS_SUBDIR = "klout-topics"
DEV_LABELS = "entity_topic_labels_dev.csv"


def topics_dir() -> Path:
    """``RENOWN_TOPICS_DIR``, else ``$RENOWN_DATASETS_DIR/klout-topics``, else ``../shared/datasets``'s."""
    if os.environ.get("RENOWN_TOPICS_DIR"):
        return Path(os.environ["RENOWN_TOPICS_DIR"])
    if os.environ.get("RENOWN_DATASETS_DIR"):
        return Path(os.environ["RENOWN_DATASETS_DIR"]) / TOPICS_SUBDIR
    return Path(__file__).resolve().parents[3] / "shared" / "datasets" / TOPICS_SUBDIR


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "topics",
        help="map text onto the Klout topic ontology; learn the mapper's terms",
        description="Map text onto weighted topics of the Klout topic ontology (CC BY 3.0), or learn the "
        "mapper's terms from Klout's labelled entity-topic pairs.",
    )
    p.add_argument("--topics-dir", metavar="DIR", help="folder of the ontology CSVs (default: the datasets')")
    sub = p.add_subparsers(dest="topics_command", required=True, metavar="SUBCOMMAND")
    m = sub.add_parser("map", help="map texts to weighted topics")
    m.add_argument("text", nargs="*", metavar="TEXT", help="texts to map (one input each)")
    m.add_argument("--file", metavar="F", help="read one input per line of F ('-': standard input)")
    m.add_argument("--json", action="store_true", help="one JSON object per input, every topic of weight > 0")
    m.add_argument(
        "--all", action="store_true", help="list every topic of weight > 0, not only asserted ones"
    )
    m.add_argument("--no-learned", action="store_true", help="the ontology alone, without the learned terms")
    learn = sub.add_parser("learn", help="learn the terms and reliabilities from labelled pairs")
    learn.add_argument("--labels", metavar="F", help=f"labelled pairs (default: the dev half, {DEV_LABELS})")
    learn.add_argument("--out", metavar="F", default=str(DEFAULT_LEARNED), help="where to write (JSON, .gz)")
    return p


def _inputs(args: argparse.Namespace) -> list[str]:
    texts = list(args.text)
    if args.file:
        fh = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
        with fh:
            texts += [line.rstrip("\n") for line in fh if line.strip()]
    return texts


def run(args: argparse.Namespace) -> int:
    import gzip

    from core.errors import RenownCoreError
    from core.topic_eval import read_labels
    from core.topic_map import TopicMapper, learn_terms

    folder = Path(args.topics_dir) if args.topics_dir else topics_dir()
    try:
        if args.topics_command == "learn":
            mapper = TopicMapper.load(folder, learned=None)
            pairs = read_labels(args.labels or folder / DEV_LABELS)
            named = [p for p in pairs if p.entity_name != "_display_unknown_"]
            learned = learn_terms(
                mapper, [p.entity_name for p in named], [p.topic_id for p in named], [p.label for p in named]
            )
            data = json.dumps(learned.to_json(), separators=(",", ":"), ensure_ascii=False).encode()
            out = Path(args.out)
            out.write_bytes(gzip.compress(data, mtime=0) if out.suffix == ".gz" else data)
            print(f"renown topics: {len(learned.terms)} terms, {len(learned.reliability)} topics -> {out}")
            return 0
        texts = _inputs(args)
        if not texts:
            print("renown topics map: error: give TEXT arguments or --file", file=sys.stderr)
            return 2
        mapper = TopicMapper.load(folder, learned=None if args.no_learned else DEFAULT_LEARNED)
    except (RenownCoreError, OSError) as exc:
        print(f"renown topics: error: {exc}", file=sys.stderr)
        return 2
    for text in texts:
        mapped = mapper.map(text)
        if args.json:
            topics = [
                {"id": mapper.ids[t], "name": mapper.names[t], "weight": round(w, 4)} for t, w in mapped
            ]
            print(json.dumps({"text": text, "topics": topics}, ensure_ascii=False))
            continue
        shown = mapped if args.all else [(t, w) for t, w in mapped if w >= mapper.threshold]
        listed = ", ".join(f"{mapper.names[t]} ({w:.2f})" for t, w in shown[:10]) or "-"
        print(f"{text}\t{listed}")
    return 0
