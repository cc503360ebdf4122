"""AWS clients and the table resource, created once per process.

They point at the local stand-in when ``RENOWN_AWS_ENDPOINT_URL`` is set (the moto server that
``renown serve`` starts).

Every client and the resource share one botocore session: the first client loads botocore's endpoint
data and service list (about 45 ms at a cold start), later ones reuse them (about 4 ms each, where a
session per client paid the 45 ms again). Low-level clients come from botocore itself, so a function
that only sends to a queue (the webhook receiver) never imports boto3; boto3 is imported for the
table resource and for S3 (boto3's S3 client adds the managed transfers: ``upload_file``...).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

from functions.shared.settings import get_settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=10)
#: services whose client is boto3's (it adds methods to the botocore client)
BOTO3_CLIENTS = frozenset({"s3"})


def _kwargs(read_timeout: float | None = None) -> dict[str, Any]:
    settings = get_settings()
    config = _CONFIG if read_timeout is None else _CONFIG.merge(Config(read_timeout=read_timeout))
    kwargs: dict[str, Any] = {"region_name": settings.region, "config": config}
    if settings.aws_endpoint_url:
        kwargs["endpoint_url"] = settings.aws_endpoint_url
    return kwargs


@cache
def _session() -> Any:
    """One botocore session for the process's clients (its loaded models and endpoints are shared)."""
    import botocore.session  # lazy: only functions that make AWS clients pay for botocore's import

    return botocore.session.Session()


@cache
def _boto3_session() -> Any:
    import boto3  # lazy: the API builds its client with botocore alone (cold start, docs/deploy.md)

    return boto3.session.Session(botocore_session=_session())


@cache
def client(service: str) -> Any:
    """A shared client for ``service`` (``dynamodb``, ``sqs``, ``s3``, ``stepfunctions``...).

    Examples
    --------
    >>> client("sqs").meta.service_model.service_name  # doctest: +SKIP
    'sqs'
    """
    if service in BOTO3_CLIENTS:
        return _boto3_session().client(service, **_kwargs())
    return _session().create_client(service, **_kwargs())


@cache
def bulk_client(service: str) -> Any:
    """A client for bulk paths that build their requests themselves (the backfill's batches): botocore
    skips its own walk over each request's parameters (the service validates them anyway), which
    costs more than the rest of the client's work for a batch of 25 items.

    Examples
    --------
    >>> type(bulk_client("dynamodb")._serializer).__name__  # doctest: +SKIP
    'JSONSerializer'
    >>> type(client("dynamodb")._serializer).__name__  # doctest: +SKIP
    'ParamValidationDecorator'
    """
    kwargs = _kwargs()
    kwargs["config"] = kwargs["config"].merge(Config(parameter_validation=False))
    return _session().create_client(service, **kwargs)


@cache
def table(name: str | None = None, read_timeout: float | None = None) -> Any:
    """The DynamoDB ``Table`` resource of the single Renown table (or of ``name``).

    ``read_timeout`` (seconds) is for long calls, such as the rescoring snapshot's filtered scan pages.
    """
    resource = _boto3_session().resource("dynamodb", **_kwargs(read_timeout))
    return resource.Table(name or get_settings().table_name)


def reset_clients() -> None:
    """Forget cached clients (tests and the local stack call this after changing settings)."""
    client.cache_clear()
    bulk_client.cache_clear()
    table.cache_clear()
    _boto3_session.cache_clear()
    _session.cache_clear()
