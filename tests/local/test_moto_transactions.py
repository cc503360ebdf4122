"""The local stack's moto adapter for transactions: item backups give the same outcome as moto's
whole-table backups (a cancelled transaction changes nothing, a committed one everything)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.conftest import AWS_ENV, TABLE, create_table


@pytest.fixture
def client(monkeypatch):
    for k, v in AWS_ENV.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        c = boto3.client("dynamodb")
        create_table(c)
        yield c


def put(pk: str, n: int) -> dict:
    return {"Put": {"TableName": TABLE, "Item": {"PK": {"S": pk}, "SK": {"S": "X"}, "n": {"N": str(n)}}}}


def items(client) -> dict[str, str]:
    return {i["PK"]["S"]: i["n"]["N"] for i in client.scan(TableName=TABLE)["Items"]}


def test_a_cancelled_transaction_restores_every_item(client):
    client.put_item(TableName=TABLE, Item={"PK": {"S": "a"}, "SK": {"S": "X"}, "n": {"N": "1"}})
    update = {
        "Update": {
            "TableName": TABLE,
            "Key": {"PK": {"S": "a"}, "SK": {"S": "X"}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    refused = put("c", 3)
    refused["Put"]["ConditionExpression"] = "attribute_exists(PK)"
    with pytest.raises(ClientError) as exc:
        client.transact_write_items(TransactItems=[update, put("b", 2), refused])
    assert exc.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert items(client) == {"a": "1"}


def test_a_committed_transaction_writes_every_item(client):
    client.transact_write_items(TransactItems=[put("a", 1), put("b", 2)])
    assert items(client) == {"a": "1", "b": "2"}
