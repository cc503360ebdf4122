"""The message the receiver puts on the ingest queue and the processor reads back (parser model)."""

from __future__ import annotations

import hashlib

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json


class QueuedDelivery(BaseModel):
    """A verified delivery, as raw as it came: the processor parses ``body`` with the same adapter.

    Examples
    --------
    >>> d = QueuedDelivery(network="twitter", delivery_id="twitter:ab", received_at=1, body="{}")
    >>> QueuedDelivery.model_validate_json(d.model_dump_json()) == d
    True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    network: str = Field(min_length=1, max_length=40)
    delivery_id: str = Field(min_length=1, max_length=512)
    received_at: int = Field(ge=0)
    body: str


class DeliveryRecord(SqsRecordModel):
    """An SQS record whose body is a ``QueuedDelivery`` (a body that is not is a poison message)."""

    body: Json[QueuedDelivery]  # type: ignore[assignment]


def body_delivery_id(network: str, raw_body: bytes) -> str:
    """Delivery id when the network gives none: the network and the SHA-256 of the raw body.

    Examples
    --------
    >>> body_delivery_id("twitter", b"{}")[:20]
    'twitter:44136fa355b3'
    """
    return f"{network}:{hashlib.sha256(raw_body).hexdigest()}"
