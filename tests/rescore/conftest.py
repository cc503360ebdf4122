"""Fixtures of the rescore tests: the single table and the artifacts bucket on moto (root conftest),
with the environment the workflow's tasks read."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from functions.rescore import run
from functions.shared import aws
from renown.local.template import REGION
from tests.conftest import TABLE, create_artifacts_bucket, create_table


@pytest.fixture()
def aws_env(moto: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The single table (as ``aws.table()``) on moto, with the artifacts bucket; the workflow's cached
    parameters are forgotten."""
    bucket = create_artifacts_bucket(boto3.client("s3", region_name=REGION))
    for key, value in {
        "RENOWN_TABLE_NAME": TABLE,
        "RENOWN_ARTIFACTS_BUCKET": bucket,
        "RENOWN_STAGE": "local",
    }.items():
        monkeypatch.setenv(key, value)
    create_table(boto3.client("dynamodb", region_name=REGION))
    run.clear_params_cache()
    return aws.table()
