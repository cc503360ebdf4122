"""API keys for customers: created in an API Gateway usage plan and registered with the app.

A key is ``rk_live_<32 letters and digits>`` (``rk_test_`` for test keys, metered like live keys and
reported as not billable). Creating one:

1. finds the plan (``free``, ``pro``: ``settings.usage_plans`` maps each name to the plan's id in AWS,
   its name on the local stack) and reads its daily quota from API Gateway;
2. creates the key in API Gateway with its value and adds it to the plan (API Gateway enforces the
   plan's throttle and quota in AWS);
3. registers it with the app: ``APIKEY#<sha256> / META`` with owner, plan, roles, the quota (which the
   app enforces from its own counters, also where no API Gateway stands in front: the local stack).

The key is returned once and never stored. Revoking marks the record (the API refuses the key within
``KEY_CACHE_S``) and disables the key in API Gateway; rotating creates a key like the old one and
revokes the old one.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.exceptions import ClientError

from functions.api import selfservice_models as sm
from functions.api.problems import Problem
from functions.api.security import hash_api_key
from functions.api.selfservice_store import SelfServiceTable
from functions.shared.records import ApiKeyRecord
from functions.shared.settings import get_settings

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 32  # random characters after the prefix: 190 bits
PREFIX_SHOWN = 12


def new_key(mode: str) -> str:
    """A fresh key: ``rk_<mode>_`` and 32 random letters and digits.

    Examples
    --------
    >>> k = new_key("test")
    >>> k.startswith("rk_test_"), len(k)
    (True, 40)
    """
    return f"rk_{mode}_" + "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def parse_plans(text: str) -> dict[str, str]:
    """``"free=abc,pro=def"`` -> ``{"free": "abc", "pro": "def"}``.

    Examples
    --------
    >>> parse_plans("free=a1, pro=b2")
    {'free': 'a1', 'pro': 'b2'}
    """
    out: dict[str, str] = {}
    for part in text.split(","):
        name, sep, ref = part.strip().partition("=")
        if sep and name.strip() and ref.strip():
            out[name.strip()] = ref.strip()
    return out


@dataclass(frozen=True)
class Plan:
    name: str
    plan_id: str
    daily_quota: int | None
    rate_limit: float | None
    burst_limit: int | None


def gateway_client() -> Any:
    """An API Gateway client (botocore only, like the API's DynamoDB client), made on first use."""
    settings = get_settings()
    return botocore.session.get_session().create_client(
        "apigateway", region_name=settings.region, endpoint_url=settings.aws_endpoint_url
    )


def info(rec: ApiKeyRecord) -> sm.ApiKeyInfo:
    """What the admin API shows of a registered key."""
    return sm.ApiKeyInfo(
        key_id=rec.key_id,
        prefix=rec.prefix,
        owner=rec.owner,
        plan=rec.plan,
        mode="test" if rec.test_mode else "live",
        roles=list(rec.roles),
        daily_quota=rec.daily_quota,
        created_at=rec.created_at,
        revoked=rec.revoked,
        revoked_at=rec.revoked_at,
        replaced_by=rec.replaced_by,
        gateway_key_id=rec.gateway_key_id,
    )


class KeyAdmin:
    """Create, list, revoke and rotate customers' keys.

    Parameters
    ----------
    table
        The self-service table.
    gateway
        An API Gateway client (boto3 or botocore).
    plans
        Plan name -> plan id (AWS) or plan name (local stack).

    Examples
    --------
    >>> admin = KeyAdmin(table, gateway, {"free": "abc"})  # doctest: +SKIP
    >>> created = admin.create(sm.ApiKeyIn(owner="acme", plan="free"), now=0)  # doctest: +SKIP
    """

    def __init__(self, table: SelfServiceTable, gateway: Any, plans: dict[str, str]) -> None:
        self.table = table
        self.gateway = gateway
        self.plans = plans

    def plan(self, name: str) -> Plan:
        """The usage plan called ``name``: 422 ``unknown-plan``, 503 when API Gateway lacks it."""
        ref = self.plans.get(name)
        if ref is None:
            known = ", ".join(sorted(self.plans)) or "none configured"
            raise Problem("unknown-plan", f"no usage plan {name!r} (plans: {known})")
        position: str | None = None
        while True:
            page = self.gateway.get_usage_plans(**({"position": position} if position else {}))
            for item in page.get("items", []):
                if ref in (item.get("id"), item.get("name")):
                    quota = item.get("quota") or {}
                    throttle = item.get("throttle") or {}
                    return Plan(
                        name=name,
                        plan_id=str(item["id"]),
                        daily_quota=int(quota["limit"]) if quota.get("period") == "DAY" else None,
                        rate_limit=throttle.get("rateLimit"),
                        burst_limit=throttle.get("burstLimit"),
                    )
            position = page.get("position")
            if not position:
                raise Problem("plan-unavailable", f"usage plan {name!r} ({ref}) is not in API Gateway")

    def create(self, body: sm.ApiKeyIn, now: float, *, key: str | None = None) -> tuple[ApiKeyRecord, str]:
        """Create a key in the plan and register it; returns (record, the key, shown once)."""
        plan = self.plan(body.plan)
        key = key or new_key(body.mode)
        key_hash = hash_api_key(key)
        created = self.gateway.create_api_key(
            name=f"{body.owner}-{key_hash[:12]}",
            description=f"Renown {body.mode} key of {body.owner} ({plan.name})",
            enabled=True,
            value=key,
            tags={"renown:owner": body.owner, "renown:plan": plan.name, "renown:mode": body.mode},
        )
        self.gateway.create_usage_plan_key(usagePlanId=plan.plan_id, keyId=created["id"], keyType="API_KEY")
        rec = ApiKeyRecord(
            key_hash=key_hash,
            owner=body.owner,
            daily_quota=plan.daily_quota,
            created_at=int(now),
            plan=plan.name,
            roles=sorted(set(body.roles)),
            prefix=key[:PREFIX_SHOWN],
            gateway_key_id=str(created["id"]),
        )
        self.table.put_api_key(rec)
        return rec, key

    def list(self, owner: str | None) -> list[ApiKeyRecord]:
        return self.table.api_keys(owner)

    def find(self, key_id: str) -> ApiKeyRecord:
        rec = self.table.api_key_by_id(key_id)
        if rec is None:
            raise Problem("api-key-not-found", f"no API key {key_id}")
        return rec

    def revoke(self, key_id: str, now: float, replaced_by: str | None = None) -> ApiKeyRecord:
        """Revoke a key in the app (refused within ``KEY_CACHE_S``) and disable it in API Gateway."""
        rec = self.find(key_id)
        if rec.revoked:
            raise Problem("api-key-revoked", f"API key {key_id} was revoked at {rec.revoked_at}")
        out = self.table.revoke_api_key(rec.key_hash, int(now), replaced_by)
        if rec.gateway_key_id:
            try:
                self.gateway.update_api_key(
                    apiKey=rec.gateway_key_id,
                    patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}],
                )
            except ClientError as exc:  # deleted by hand in API Gateway: the app refuses it anyway
                if exc.response.get("Error", {}).get("Code") != "NotFoundException":
                    raise
        return out

    def rotate(self, key_id: str, now: float) -> tuple[ApiKeyRecord, str]:
        """A new key with the old one's owner, plan, mode and roles; the old one is revoked."""
        old = self.find(key_id)
        if old.revoked:
            raise Problem("api-key-revoked", f"API key {key_id} was revoked at {old.revoked_at}")
        body = sm.ApiKeyIn(
            owner=old.owner,
            plan=old.plan or "free",
            mode="test" if old.test_mode else "live",
            roles=[r for r in old.roles if r == "brand"],
        )
        rec, key = self.create(body, now)
        self.revoke(key_id, now, replaced_by=rec.key_id)
        return rec, key
