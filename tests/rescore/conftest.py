"""Fixtures: an in-process moto account (table + artifacts bucket) for the workflow's tasks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.shared import aws
from functions.shared.settings import get_settings


@pytest.fixture()
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "RENOWN_TABLE_NAME": "renown",
        "RENOWN_ARTIFACTS_BUCKET": "renown-artifacts",
        "RENOWN_STAGE": "local",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("RENOWN_AWS_ENDPOINT_URL", raising=False)
    get_settings.cache_clear()
    aws.reset_clients()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="renown",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
        )
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="renown-artifacts")
        from functions.rescore import run

        run.clear_params_cache()
        yield aws.table()
    get_settings.cache_clear()
    aws.reset_clients()
