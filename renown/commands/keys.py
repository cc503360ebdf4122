"""``renown keys``: create, list, revoke and rotate customers' API keys through the admin API.

``create`` and ``rotate`` print the new key once (it is stored only hashed); everything is printed as
JSON. Against the local stack by default; ``--url`` for a deployed stack (IAM-signed).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from renown.admin_client import AdminClient, AdminError, add_connection_arguments


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "keys",
        help="create, list, revoke and rotate customers' API keys",
        description="Manage API keys: each is created in an API Gateway usage plan (free, pro) and "
        "registered with the API. The key is shown once.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key (printed once)")
    create.add_argument("--owner", required=True, help="who the key belongs to (lower case)")
    create.add_argument("--plan", required=True, help="usage plan: free or pro")
    create.add_argument("--test", action="store_true", help="a test key (rk_test_): metered, never billed")
    create.add_argument(
        "--role", action="append", default=[], choices=["brand"], help="brand: may publish perks"
    )
    listing = actions.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--owner", help="only this owner's keys")
    revoke = actions.add_parser("revoke", help="revoke a key (refused within 30 s)")
    revoke.add_argument("key_id", help="the key's id (12 hex digits, from `renown keys list`)")
    rotate = actions.add_parser(
        "rotate", help="replace a key by a new one (printed once); the old is revoked"
    )
    rotate.add_argument("key_id")
    for action in (create, listing, revoke, rotate):
        add_connection_arguments(action)


def run(args: argparse.Namespace, session: Any = None) -> int:
    client = AdminClient.from_args(args, session)
    try:
        if args.action == "create":
            body = {
                "owner": args.owner,
                "plan": args.plan,
                "mode": "test" if args.test else "live",
                "roles": args.role,
            }
            out = client.call("POST", "/admin/v1/keys", body).json()
        elif args.action == "list":
            out = client.call(
                "GET", "/admin/v1/keys", params={"owner": args.owner} if args.owner else None
            ).json()
        elif args.action == "revoke":
            out = client.call("DELETE", f"/admin/v1/keys/{args.key_id}").json()
        else:
            out = client.call("POST", f"/admin/v1/keys/{args.key_id}/rotate").json()
    except AdminError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if "api_key" in out:
        print("The key is shown this once: store it now.", file=sys.stderr)
    print(json.dumps(out, indent=2))
    return 0
