"""``renown usage report --month YYYY-MM``: requests per owner and route group in a month, in CSV or
JSON, from the counters the quota reads (through the admin API)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from renown.admin_client import AdminClient, AdminError, add_connection_arguments


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("usage", help="usage reports customers are billed on")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = actions.add_parser("report", help="requests per owner in a month (test keys apart)")
    report.add_argument("--month", required=True, help="YYYY-MM (UTC)")
    report.add_argument("--format", choices=["csv", "json"], default="csv")
    report.add_argument("--out", type=Path, help="write to this file instead of standard output")
    add_connection_arguments(report)


def run(args: argparse.Namespace, session: Any = None) -> int:
    client = AdminClient.from_args(args, session)
    try:
        response = client.call(
            "GET", "/admin/v1/usage-report", params={"month": args.month, "format": args.format}
        )
    except AdminError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = response.text if args.format == "csv" else json.dumps(response.json(), indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0
