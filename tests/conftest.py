"""What the tests share: a fake Lambda context, the moto environment (``mock_aws`` with test
credentials and fresh settings and clients), and the resources of ``template.yaml`` (the single table,
the idempotency table, the ingest queue with its dead-letter queue, the artifacts bucket) created
in-process by the same code that creates them on the local stack (``renown.local.moto_stack``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.shared import aws
from functions.shared.settings import Settings, get_settings
from renown.local import moto_stack
from renown.local.moto_process import item_level_transactions
from renown.local.template import ACCOUNT, REGION, LocalTemplate

ROOT = Path(__file__).resolve().parents[1]
#: the single table's name in the tests: the settings' default (``RENOWN_TABLE_NAME`` unset)
TABLE = Settings.model_fields["table_name"].default
#: the moto environment: test credentials, one region, no endpoint (``mock_aws`` answers in-process)
AWS_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@dataclass
class LambdaContext:
    """What Lambda passes as ``context``, as much as the handlers and powertools read."""

    function_name: str = "test"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "req"
    remaining_ms: int = 30_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(scope="session", autouse=True)
def moto_transactions_by_item() -> Iterator[None]:
    """moto's transactions back up the items they name, as on the local stack (not whole tables)."""
    undo = item_level_transactions()
    yield
    undo()


@pytest.fixture()
def lambda_context() -> LambdaContext:
    return LambdaContext()


@cache
def template() -> LocalTemplate:
    """``template.yaml`` as the local stack reads it (physical names, references)."""
    return LocalTemplate.load(ROOT / "template.yaml")


def properties(logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = template().resources[logical_id].get("Properties", {})
    return props


def create_table(client: Any, name: str = TABLE) -> None:
    """The single table (keys, GSI1, stream, TTL) as ``template.yaml`` declares it."""
    moto_stack.create_table(client, name, properties("RenownTable"))


def create_idempotency_table(client: Any) -> None:
    """The idempotency table of the ingest processor, under the settings' default name."""
    name = Settings.model_fields["idempotency_table_name"].default
    moto_stack.create_table(client, name, properties("IdempotencyTable"))


def create_ingest_queues(client: Any, **attributes: Any) -> tuple[str, str]:
    """The ingest queue and its dead-letter queue (template names and redrive policy); ``attributes``
    override the template's (the tests use ``VisibilityTimeout=0`` so that a failed message comes back
    at once). Returns the two queue URLs."""
    tpl = template()
    dlq = moto_stack.create_queue(
        client, tpl.physical["IngestDeadLetterQueue"], properties("IngestDeadLetterQueue"), tpl.resolve
    )
    props = {**properties("IngestQueue"), **attributes}
    queue = moto_stack.create_queue(client, tpl.physical["IngestQueue"], props, tpl.resolve)
    return queue, dlq


def create_artifacts_bucket(client: Any) -> str:
    name: str = Settings.model_fields["artifacts_bucket"].default
    client.create_bucket(Bucket=name)
    return name


def reset_process_state() -> None:
    """Forget settings and clients cached by ``functions.shared`` (a fresh container)."""
    get_settings.cache_clear()
    aws.reset_clients()


@pytest.fixture()
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The moto environment variables, without ``RENOWN_AWS_ENDPOINT_URL``; settings and clients are
    forgotten before and after. Directory conftests add their own variables on top."""
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("RENOWN_AWS_ENDPOINT_URL", raising=False)
    reset_process_state()
    yield AWS_ENV
    reset_process_state()


@pytest.fixture()
def moto(moto_env: dict[str, str]) -> Iterator[None]:
    """An in-process moto account (``mock_aws``) in the moto environment."""
    with mock_aws():
        yield


@pytest.fixture()
def ddb(moto: None) -> Any:
    """A DynamoDB client on the moto account, with the single table created."""
    client = boto3.client("dynamodb", region_name=REGION)
    create_table(client)
    return client
