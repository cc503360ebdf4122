"""The ``renown`` command: ``serve``, ``score``, ``explain``, ``bench``, ``release``, ``evaluate``,
``keys``, ``topics``, ``usage``.

Each subcommand lives in its own module under ``renown.commands`` (``evaluate``: ``renown.evaluate``)
exposing
``add_parser(subparsers)`` and ``run(args) -> int``; modules are imported only when needed
so that ``renown --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

COMMANDS: dict[str, str] = {
    "serve": "renown.commands.serve",
    "score": "renown.commands.score",
    "explain": "renown.commands.explain",
    "bench": "renown.commands.bench",
    "release": "renown.commands.release",
    "evaluate": "renown.evaluate.command",
    "topics": "renown.commands.topics",
    "keys": "renown.commands.keys",
    "usage": "renown.commands.usage",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="renown",
        description="Renown: an open, explainable social influence score.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMANDS.values():
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    module = importlib.import_module(COMMANDS[args.command])
    try:
        return int(module.run(args) or 0)
    except BrokenPipeError:  # the reader went away (``renown ... | head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
