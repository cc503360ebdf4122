"""``renown explain``: why one account has its score, computed offline from edge files.

``renown explain ACCOUNT EDGES... [--accounts FILE] [--now T] [--version NAME] [--calibration FILE]
[--top N] [--json]``

Prints the points by signal and network, the top engagers with their counterfactuals (the score without
each one's engagement), decay, every integrity rule that changed the score, and the top influencers and
influencees. ``--json`` prints the same as one JSON document (the API's explain response).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "explain",
        help="explain one account's score from edge files",
        description="Explain one account's score: points by signal and network, top engagers with "
        "counterfactuals, decay and the rules that changed it.",
    )
    p.add_argument("account", metavar="ACCOUNT", help="account key as in the edge files (or network:id)")
    p.add_argument("edges", nargs="+", metavar="EDGES", help="edge files (as renown score reads them)")
    p.add_argument(
        "--accounts", metavar="FILE", help="CSV with 'account' and any of followers, posts, created"
    )
    p.add_argument("--now", type=float, metavar="UNIX_TIME", help="reference time of the decay")
    p.add_argument("--version", default="v3", metavar="NAME", help="algorithm version (default v3)")
    p.add_argument("--calibration", metavar="FILE", help="apply this stored calibration table")
    p.add_argument("--default-type", default="mention", metavar="TYPE", help="type of lines without one")
    p.add_argument("--top", type=int, default=5, metavar="N", help="top engagers listed (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def explanation(args: argparse.Namespace) -> dict[str, Any]:
    """The explanation document of ``args.account`` (raises ``RenownCoreError`` on bad input)."""
    from core.edgelist import read_edges
    from core.errors import InputFormatError
    from core.explain import explain, influence
    from core.io import attach_accounts, read_accounts_csv
    from core.scoring import score_population
    from core.versions import get_version
    from renown.commands.score import load_calibration

    params = get_version(args.version)
    engagements, accounts = read_edges(args.edges, default_type=args.default_type)
    if args.accounts:
        accounts = attach_accounts(accounts, read_accounts_csv(args.accounts))
    index = {key: i for i, key in enumerate(accounts.ids)}
    if args.account not in index:
        bare = args.account.partition(":")[2]
        if bare not in index:
            raise InputFormatError(f"account {args.account!r} is in none of the edge files")
        args.account = bare
    table = load_calibration(args.calibration) if args.calibration else None
    result = score_population(engagements, accounts, params, now=args.now, calibration=table)
    profile = int(accounts.profile[index[args.account]])
    doc = explain(result, engagements, accounts, profile, top_n=max(0, args.top))
    doc["influence"] = influence(result, engagements, accounts, profile, top_n=max(0, args.top))
    return doc


def render(doc: dict[str, Any]) -> str:
    """The explanation as text for a terminal."""
    lines = [
        f"{doc['profile']}: {doc['score']:.1f} ({doc['bucket']}), version {doc['version']}",
        "points by signal: " + ", ".join(f"{k} {v:.2f}" for k, v in doc["signals"].items()),
    ]
    for net in doc["networks"]:
        lines.append(f"  {net['network']}: {net['points']:.2f} points, network score {net['score']:.1f}")
    if doc["top_engagers"]:
        lines.append("top engagers (points attributed; score without them):")
    for e in doc["top_engagers"]:
        cf = ""
        if "score_without" in e:
            cf = f"; without them {e['score_without']:.2f} ({e['counterfactual_points']:+.2f})"
        kinds = ", ".join(f"{n} {t}" for t, n in e.get("by_type", {}).items()) or f"{e['engagements']}"
        lines.append(f"  {e['account']}: {e['points']:.2f} points from {kinds}{cf}")
    lines.append(f"  other engagers: {doc['other_engagers_points']:.2f} points")
    decay = doc["decay"]
    lines.append(
        f"decay (half-life {decay['half_life_days']:g} days): about {decay['points_lost_estimate']:.2f} "
        "points not earned"
    )
    for rule in doc.get("rules", []):
        lines.append(f"rule: {rule['text']}")
    influence = doc.get("influence") or {}
    for key in ("influencers", "influencees"):
        entries = influence.get(key) or []
        if entries:
            lines.append(f"{key}: " + ", ".join(f"{e['account']} ({e['points']:.2f})" for e in entries))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from core.errors import RenownCoreError

    try:
        doc = explanation(args)
    except (RenownCoreError, OSError) as exc:
        print(f"renown explain: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(doc, indent=1) if args.json else render(doc))
    return 0
