"""boto3 clients and resources, created once per process and pointed at the local stand-in when
``RENOWN_AWS_ENDPOINT_URL`` is set (the moto server that ``renown serve`` starts)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from functions.shared.settings import get_settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=10)


def _kwargs() -> dict[str, Any]:
    settings = get_settings()
    kwargs: dict[str, Any] = {"region_name": settings.region, "config": _CONFIG}
    if settings.aws_endpoint_url:
        kwargs["endpoint_url"] = settings.aws_endpoint_url
    return kwargs


@cache
def client(service: str) -> Any:
    """A shared boto3 client for ``service`` (``dynamodb``, ``sqs``, ``s3``, ``stepfunctions``...)."""
    return boto3.session.Session().client(service, **_kwargs())  # type: ignore[call-overload]


@cache
def table(name: str | None = None) -> Any:
    """The DynamoDB ``Table`` resource of the single Renown table (or of ``name``)."""
    resource = boto3.session.Session().resource("dynamodb", **_kwargs())  # type: ignore[call-overload]
    return resource.Table(name or get_settings().table_name)


def reset_clients() -> None:
    """Forget cached clients (tests and the local stack call this after changing settings)."""
    client.cache_clear()
    table.cache_clear()
