"""The ``renown`` command: ``serve``, ``score``, ``explain``, ``bench``, ``release``, ``evaluate``,
``keys``, ``topics``, ``usage``, ``warm``.

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
    "warm": "renown.commands.warm",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line parser: every command's, or only ``command``'s (its module alone is imported:
    ``renown score`` does not pay for the AWS client modules of ``renown keys``).
    """
    parser = argparse.ArgumentParser(
        prog="renown",
        description="Renown: an open, explainable social influence score.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = [command] if command in COMMANDS else list(COMMANDS)
    for name in names:
        importlib.import_module(COMMANDS[name]).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(argv)
    module = importlib.import_module(COMMANDS[args.command])
    try:
        return int(module.run(args) or 0)
    except BrokenPipeError:  # the reader went away (``renown ... | head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
