"""One person, one profile: the demo's people connect their accounts on other networks to their X
profile, through the public API's account-linking route (``POST /v1/profiles/{id}/accounts``), as
they would after signing in with each network.

Ingest gives every network account a profile of its own on first sight; connecting an account moves
it to the person's profile (the profile it leaves, now empty, is merged into it). Both sides prove
ownership with owner tokens: locally the loader holds the signing key and issues them itself, where
in production each network's OAuth sign-in would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import requests

from functions.api import owner_tokens

log = logging.getLogger("renown.demo")


def owner_token(signing_key: bytes, profile_id: str) -> str:
    """A short-lived owner token of ``profile_id`` (the loader holds the signing key)."""
    return owner_tokens.issue(signing_key, profile_id, time.time(), ttl_days=1)[0]


#: the networks of the multi-network demo; the home account of each person is on X
OTHER_NETWORKS = ("facebook", "instagram", "linkedin", "youtube", "mastodon")


def account_id_on(network: str, user_id: str, user: Mapping[str, Any]) -> str:
    """The account id the demo deliveries give ``user_id`` on ``network`` (Mastodon: the ``acct``).

    Examples
    --------
    >>> account_id_on("mastodon", "100", {"screen_name": "PeterHiggs"}), account_id_on("facebook", "100", {})
    ('peterhiggs', '100')
    """
    if network == "mastodon":
        return str(user.get("screen_name") or f"user{user_id}").lower()
    return user_id


class Linker:
    """Calls the public API on ``base_url`` with ``api_key``; owner tokens under ``signing_key``."""

    def __init__(self, base_url: str, api_key: str, signing_key: bytes) -> None:
        self.base_url, self.signing_key = base_url.rstrip("/"), signing_key
        self.session = requests.Session()
        self.session.headers["x-api-key"] = api_key

    def profile_of(self, network: str, account_id: str) -> str | None:
        reply = self.session.get(f"{self.base_url}/v1/identity/{network}/id/{account_id}", timeout=30)
        return str(reply.json()["profile_id"]) if reply.status_code == 200 else None

    def connect(self, profile_id: str, network: str, account_id: str, current: str) -> bool:
        """Move ``network/account_id`` (now on profile ``current``) to ``profile_id``."""
        reply = self.session.post(
            f"{self.base_url}/v1/profiles/{profile_id}/accounts",
            json={
                "network": network,
                "account_id": account_id,
                "proof": {"account_owner_token": owner_token(self.signing_key, current)},
            },
            headers={"x-renown-owner-token": owner_token(self.signing_key, profile_id)},
            timeout=60,
        )
        if reply.status_code != 200:
            log.warning("linking %s %s: %s %s", network, account_id, reply.status_code, reply.text[:200])
        return reply.status_code == 200

    def link_people(self, users: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
        """Connect each person's accounts on :data:`OTHER_NETWORKS` to their X profile; returns
        ``{user id: profile id}`` of the people found on X."""
        homes: dict[str, str] = {}
        for user_id, user in users.items():
            home = self.profile_of("twitter", user_id)
            if home is None:
                continue
            homes[user_id] = home
            for network in OTHER_NETWORKS:
                account_id = account_id_on(network, user_id, user)
                current = self.profile_of(network, account_id)
                if current is not None and current != home:
                    self.connect(home, network, account_id, current)
        return homes
