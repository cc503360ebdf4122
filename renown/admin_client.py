"""A client of the admin API (``/admin/v1``) for ``renown keys`` and ``renown usage``.

On the local stack it finds the API in ``.renown/local.json`` (written by ``renown serve``) and sends
the admin credential (``--admin-key``, ``RENOWN_ADMIN_KEY``, or the development default). Against a
deployed stack (``--url https://<api>.execute-api.<region>.amazonaws.com/<stage>``) it signs each
request with SigV4 under the caller's AWS credentials, which need ``execute-api:Invoke`` on
``/admin/*``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import botocore.session
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from functions.shared.settings import Settings

STATE_FILE = Path(".renown") / "local.json"
ADMIN_HEADER = "x-renown-admin-key"


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--url``, ``--admin-key``, ``--iam``, ``--region``, ``--state`` of every admin command."""
    parser.add_argument("--url", help="API base URL (default: the local stack of `renown serve`)")
    parser.add_argument("--admin-key", help="admin credential of the local stack (default RENOWN_ADMIN_KEY)")
    parser.add_argument(
        "--iam", action="store_true", help="sign with AWS credentials (SigV4; default for AWS URLs)"
    )
    parser.add_argument("--region", help="AWS region for SigV4 (default: from the URL)")
    parser.add_argument(
        "--state", type=Path, default=STATE_FILE, help="where `renown serve` wrote its endpoints"
    )


class AdminError(Exception):
    """The admin API answered with an error (its problem document is the message)."""


class AdminClient:
    """Calls the admin API.

    Parameters
    ----------
    url
        Base URL of the API.
    admin_key
        The local admin credential; None to sign with IAM.
    region
        Region for SigV4 signing.
    session
        Something with ``request(method, url, json=..., params=..., headers=...)`` (a
        ``requests.Session``; tests pass a ``TestClient``).

    Examples
    --------
    >>> AdminClient("http://127.0.0.1:8000", admin_key="k").url
    'http://127.0.0.1:8000'
    """

    def __init__(
        self, url: str, admin_key: str | None, region: str | None = None, session: Any = None
    ) -> None:
        self.url = url.rstrip("/")
        self.admin_key = admin_key
        self.region = region
        self.session = session

    @classmethod
    def from_args(cls, args: argparse.Namespace, session: Any = None) -> AdminClient:
        url = args.url
        if url is None:
            if session is not None:
                url = "http://testserver"
            elif not args.state.exists():
                raise SystemExit(
                    f"error: no running local stack ({args.state} is missing): "
                    "start it with `make run`, or pass --url"
                )
            else:
                url = json.loads(args.state.read_text())["url"]
        iam = args.iam or "execute-api" in url
        if iam:
            match = re.search(r"execute-api\.([a-z0-9-]+)\.amazonaws", url)
            region = args.region or (match.group(1) if match else None) or os.environ.get("AWS_REGION")
            return cls(url, None, region or "us-east-1", session)
        key = args.admin_key or Settings().admin_key.get_secret_value()
        return cls(url, key, None, session)

    def _headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if self.admin_key is not None:
            headers[ADMIN_HEADER] = self.admin_key
            return headers
        credentials = botocore.session.get_session().get_credentials()
        if credentials is None:
            raise SystemExit("error: no AWS credentials to sign the admin request with")
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        SigV4Auth(credentials, "execute-api", self.region or "us-east-1").add_auth(request)
        return dict(request.headers.items())

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> Any:
        """One request; returns the response (raises :class:`AdminError` on an error status)."""
        url = self.url + path + ("?" + urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        session = self.session
        if session is None:
            session = requests.Session()
        headers = self._headers(method, url, data)
        if _is_httpx(session):  # a TestClient (httpx) names the body ``content``
            response = session.request(method, url, content=data, headers=headers)
        else:
            response = session.request(method, url, data=data, headers=headers, timeout=30)
        if response.status_code >= 400:
            raise AdminError(response.text)
        return response


def _is_httpx(session: Any) -> bool:
    return type(session).__module__.startswith(("httpx", "starlette", "fastapi"))
