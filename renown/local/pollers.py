"""Event source mappings, locally: SQS batches and DynamoDB stream records, shaped as Lambda sends them.

moto's own mappings cannot run our handlers (SQS goes to the echoing backend, streams want Docker),
so these threads poll the moto server and call the in-process handlers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from renown.local.context import LocalLambdaContext

log = logging.getLogger("renown.local")
Handler = Callable[[dict[str, Any], Any], Any]


def matches(pattern: Any, value: Any) -> bool:
    """The subset of Lambda event-filter patterns Renown uses: nested keys, values, ``prefix``.

    Examples
    --------
    >>> matches({"eventName": ["INSERT", "MODIFY"]}, {"eventName": "REMOVE"})
    False
    """
    return matcher(pattern)(value)


def matcher(pattern: Any) -> Callable[[Any], bool]:
    """``pattern`` compiled once into a test of a value, the same as :func:`matches` (for the local
    stack's stream, which tests every write).

    Examples
    --------
    >>> edges = matcher({"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "EDGES#"}]}}}})
    >>> edges({"dynamodb": {"Keys": {"PK": {"S": "EDGES#x"}}}}), edges({"dynamodb": {"Keys": {}}})
    (True, False)
    """
    if isinstance(pattern, dict):
        parts = [(key, matcher(inner)) for key, inner in pattern.items()]

        def structure(value: Any) -> bool:
            return isinstance(value, dict) and all(k in value and test(value[k]) for k, test in parts)

        return structure
    if isinstance(pattern, list):
        prefixes = tuple(o["prefix"] for o in pattern if isinstance(o, dict) and "prefix" in o)
        equals = [o for o in pattern if not (isinstance(o, dict) and "prefix" in o)]

        def options(value: Any) -> bool:
            return (bool(prefixes) and isinstance(value, str) and value.startswith(prefixes)) or any(
                o == value for o in equals
            )

        return options
    return lambda value: bool(pattern == value)


class Poller(threading.Thread):
    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()
        self.invocations = 0
        self.failures = 0
        self.idle = threading.Event()

    def stop(self) -> None:
        self.stopping.set()


class SqsPoller(Poller):
    """Receives up to ``batch_size`` messages and calls the handler with an SQS event.

    Messages the handler reports in ``batchItemFailures`` (or all, if it raises) stay on the queue;
    locally their visibility is cut to ``retry_after_s`` so retries come quickly, and after the
    queue's ``maxReceiveCount`` moto moves them to the dead-letter queue.
    """

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: Handler,
        function_name: str,
        batch_size: int = 10,
        retry_after_s: int = 1,
    ) -> None:
        super().__init__(f"sqs:{function_name}")
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn
        self.handler, self.function_name = handler, function_name
        self.batch_size = min(batch_size, 10)
        self.retry_after_s = retry_after_s

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.poll_once(wait_s=1)
            except Exception:  # keep polling: a local poller must survive a bad moment
                log.exception("sqs poller error")
                time.sleep(1)

    def poll_once(self, wait_s: int = 0) -> int:
        reply = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = reply.get("Messages", [])
        if not messages:
            self.idle.set()
            return 0
        self.idle.clear()
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": self.queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
        failed: set[str] = set()
        try:
            result = self.handler({"Records": records}, LocalLambdaContext(self.function_name, timeout_s=60))
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        except Exception:
            log.exception("%s raised; the whole batch will be retried", self.function_name)
            failed = {r["messageId"] for r in records}
        self.invocations += 1
        self.failures += len(failed)
        done = [r for r in records if r["messageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)],
            )
        for r in records:
            if r["messageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=r["receiptHandle"],
                    VisibilityTimeout=self.retry_after_s,
                )
        return len(records)


class StreamPoller(Poller):
    """Reads a DynamoDB stream from the start and hands filtered records to the handler in batches."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        function_name: str,
        batch_size: int = 100,
        window_s: float = 0.5,
        filters: list[Any] | None = None,
        max_retries: int = 5,
    ) -> None:
        super().__init__(f"stream:{function_name}")
        self.streams, self.stream_arn = streams, stream_arn
        self.handler, self.function_name = handler, function_name
        self.batch_size, self.window_s = batch_size, window_s
        self.filters = filters or []
        self._tests = [matcher(f) for f in self.filters]
        self.max_retries = max_retries
        self.iterators: dict[str, str] = {}
        self.delivered = 0

    def _refresh_shards(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]

    def _wanted(self, record: dict[str, Any]) -> bool:
        return not self._tests or any(test(record) for test in self._tests)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.poll_once() == 0:
                    self.idle.set()
                    time.sleep(self.window_s)
            except Exception:
                log.exception("stream poller error")
                time.sleep(1)

    def poll_once(self) -> int:
        self._refresh_shards()
        batch: list[dict[str, Any]] = []
        for shard_id, iterator in list(self.iterators.items()):
            reply = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            self.iterators[shard_id] = reply.get("NextShardIterator") or iterator
            for record in reply.get("Records", []):
                record = {**record, "eventSourceARN": self.stream_arn}
                if self._wanted(record):
                    batch.append(record)
        if not batch:
            return 0
        self.idle.clear()
        for start in range(0, len(batch), self.batch_size):
            self._deliver(batch[start : start + self.batch_size])
        return len(batch)

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        pending = records
        for _attempt in range(self.max_retries + 1):
            try:
                result = self.handler(
                    {"Records": pending}, LocalLambdaContext(self.function_name, timeout_s=120)
                )
            except Exception:
                log.exception("%s raised; retrying the batch", self.function_name)
                self.failures += 1
                time.sleep(0.2)
                continue
            self.invocations += 1
            failures = (result or {}).get("batchItemFailures", [])
            if not failures:
                self.delivered += len(pending)
                return
            # Lambda retries from the lowest failed sequence number: later records come again
            lowest = min(int(f["itemIdentifier"]) for f in failures)
            self.delivered += sum(1 for r in pending if int(r["dynamodb"]["SequenceNumber"]) < lowest)
            pending = [r for r in pending if int(r["dynamodb"]["SequenceNumber"]) >= lowest]
            self.failures += 1
            time.sleep(0.2)
        log.error("%s: %d stream records dropped after retries", self.function_name, len(pending))
