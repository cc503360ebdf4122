"""Items of plain Python values as DynamoDB attribute values, for the bulk writers (the backfill, the
scoring pass's writes) that send them with a low-level client (``aws.bulk_client``).

Kept apart from :mod:`functions.shared.records`: the API imports those, and this one loads boto3.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_SER = TypeSerializer()
_DESER = TypeDeserializer()


def attribute_values(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` (plain Python values, numbers as ``Decimal`` or ``int``) as attribute values.

    Examples
    --------
    >>> from decimal import Decimal
    >>> attribute_values({"PK": "P1", "n": Decimal(2), "tags": ["a"]})
    {'PK': {'S': 'P1'}, 'n': {'N': '2'}, 'tags': {'L': [{'S': 'a'}]}}
    """
    return {name: _SER.serialize(value) for name, value in item.items()}


def plain_values(item: dict[str, Any]) -> dict[str, Any]:
    """The reverse of :func:`attribute_values`.

    Examples
    --------
    >>> plain_values({"PK": {"S": "P1"}, "n": {"N": "2"}})
    {'PK': 'P1', 'n': Decimal('2')}
    """
    return {name: _DESER.deserialize(value) for name, value in item.items()}
