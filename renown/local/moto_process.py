"""The moto server process of the local stack (``python -m renown.local.moto_process``).

moto runs in its own process, as AWS runs apart from the functions. Two adapters are installed
here:

* moto's Step Functions interpreter calls Lambda through the "simple" backend, which only echoes
  payloads; ``forward_invocations`` makes that backend forward each invocation to the Lambda Invoke
  API that the local stack serves, where the real handlers run;
* moto answers a Query on the table's own key by walking every item of the table (a cost that grows
  with the table, and a walk that fails when a concurrent write adds a partition); DynamoDB reads one
  partition. ``partition_queries`` gives such a query the items of its partition only (results,
  order and paging unchanged);
* moto answers a Scan page by sorting and walking the whole table up to the page's
  ``ExclusiveStartKey`` (every page costs the whole table: a paged Scan is quadratic in the table's
  size). ``linear_scans`` resumes a base-table Scan at its start key over a sorted list of the
  partitions kept between pages (results, order, paging, segments and filters unchanged);
* moto checks an item's 400 KB limit again for every attribute it sets while building the item
  (quadratic in the attributes: a third of the cost of a put). ``linear_item_sizes`` checks the
  whole item once (the same limit, the same error);
* moto reads every request and writes every answer by walking the service's model shape by shape:
  for DynamoDB each attribute value of each item walks the ten members of ``AttributeValue`` with
  several name lookups each (most of the time of a Scan page, a ``GetRecords`` batch of the stream or
  a ``BatchWriteItem``). ``direct_attribute_values`` parses and writes an ``AttributeValue`` by the
  members it holds (the same values, the same blob encoding);
* moto backs up every table a ``TransactWriteItems`` touches by copying the whole table (a cost
  that grows with the table: ingest writes each delivery in a transaction, so a replay slowed down
  quadratically and a copy failed under concurrent writes). ``item_level_transactions`` keeps a
  backup of the items the transaction names instead and restores those when it is cancelled
  (same outcome, conditions and errors);
* moto keeps a stream record, both images written out, of every write to a table with a stream, and
  the local stack's pollers read them all back to find the few that a mapping's filter passes (on the
  backfill, the ``EDGES#`` items among the accounts, posts and claims: half of moto's time went to
  records nobody wanted). ``filtered_streams`` keeps the records that some mapping on the table would
  be handed (the template's ``FilterCriteria``, matched as the pollers match them); a table with a
  mapping that has no filter keeps every record. Sequence numbers stay increasing, as DynamoDB's do
  (they are not contiguous there either);
* moto's server finds a request's backend by listing its own package directory (``isdir`` of every
  entry) every time; ``cached_backend_lookup`` keeps the answer per host;
* moto's server answers each request on its own thread, and its DynamoDB backend is not thread-safe:
  a Scan, a Query on an index or a transaction walking the table's dictionaries while another thread
  adds a partition fails ("dictionary changed size during iteration"), and a transaction's checks and
  writes can interleave with another writer. ``serialised_tables`` runs DynamoDB and DynamoDB Streams
  requests one at a time, in the order they came, Scan pages after the other waiting requests
  (``TurnLock``; other services stay concurrent: a Step Functions task calls Lambda, whose handler
  calls DynamoDB while the task waits).
"""

from __future__ import annotations

import argparse
import collections
import copy
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests


def forward_invocations(lambda_endpoint: str) -> None:
    """Replace ``LambdaSimpleBackend.invoke`` with a forwarder to ``lambda_endpoint``."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    session = requests.Session()

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        name = function_name.rsplit(":", 1)[-1]
        reply = session.post(
            f"{lambda_endpoint}/2015-03-31/functions/{name}/invocations",
            data=body or b"{}",
            timeout=900,
        )
        error = reply.headers.get("x-amz-function-error")
        if error:
            response_headers["x-amz-function-error"] = error
        return reply.content

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def partition_queries() -> Callable[[], None]:
    """Base-table Queries read their partition only (see the module docstring); returns the undo.

    Examples
    --------
    >>> undo = partition_queries()
    >>> undo()
    """
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    local = threading.local()

    def all_items(self: Any) -> Any:
        key = getattr(local, "hash_key", None)
        if key is not None and self.range_key_attr:
            partition = self.items.get(key)
            return list(partition.values()) if partition else []
        return original_all_items(self)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        local.hash_key = hash_key if index_name is None else None
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            local.hash_key = None

    def undo() -> None:
        Table.query, Table.all_items = original_query, original_all_items  # type: ignore[method-assign]

    Table.query, Table.all_items = query, all_items  # type: ignore[method-assign]
    return undo


def linear_scans() -> Callable[[], None]:
    """A base-table Scan reads from its ``ExclusiveStartKey`` on (see the module docstring); returns
    the undo.

    moto orders a Scan by ``(hash key, range key)``: the partitions' hash keys are kept sorted between
    pages (per table and segment, sorted again only when a partition was added: moto never removes
    one from a table with a range key), a page starts at its key by bisection, and each partition's
    items are sorted on the way. Scans of an index, or of a table without a range key, are moto's own.

    Examples
    --------
    >>> undo = linear_scans()
    >>> undo()
    """
    from bisect import bisect_left, bisect_right
    from itertools import islice
    from operator import itemgetter

    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.dynamo_type import DynamoType

    original = table_module.Table.scan
    lock = threading.Lock()

    def sorted_partitions(self: Any, segments: tuple[Any, Any]) -> tuple[list[Any], list[Any]]:
        """``(hash keys, their values)`` of the table's partitions in the segment, in scan order.

        Partitions added since the last page are inserted in place (moto adds an empty partition even
        for a read of a missing key, so a busy table gains some between pages); many at once, as after
        a bulk import, are merged in one sort of the two runs."""
        with lock:
            cache = self.__dict__.setdefault("_renown_scan_order", {})
            if cache.get("items") is not self.items or len(self.items) < cache["count"]:
                cache.clear()
                cache["items"], cache["count"] = self.items, 0
            if len(self.items) != cache["count"]:
                # partitions are only ever added, at the end of the dictionary's order: the new ones
                # are its tail (skipped to in C, not looked up one by one)
                added = list(islice(self.items, cache["count"], None))
                cache["count"] = len(self.items)
                orders = [(key, order) for key, order in cache.items() if isinstance(key, tuple)]
                if orders:
                    spread = [(_segment_byte(h), h) for h in added]  # one MD5 per partition
                    for (segment, total), (hashes, values) in orders:
                        new = [h for b, h in spread if _in_segment(h, (segment, total), b)]
                        if len(new) > MERGE_ABOVE:
                            # many at once (a bulk import since the last scan): one merge of two
                            # sorted runs, not one list insertion each (the table's size each)
                            pairs = sorted(
                                [*zip(values, hashes, strict=True), *((_key_value(h), h) for h in new)],
                                key=itemgetter(0),
                            )
                            values[:] = [v for v, _ in pairs]
                            hashes[:] = [h for _, h in pairs]
                            continue
                        for h in new:
                            value = _key_value(h)
                            position = bisect_left(values, value)
                            hashes.insert(position, h)
                            values.insert(position, value)
            found = cache.get(segments)
            if found is None:
                inside = (h for h in self.items if _in_segment(h, segments))
                hashes = sorted(inside, key=_key_value)
                found = cache[segments] = (hashes, [_key_value(h) for h in hashes])
        return found

    def ordered(self: Any, segments: tuple[Any, Any], start: dict[str, Any] | None) -> Any:
        hashes, values = sorted_partitions(self, segments)
        first, start_hash, start_range = 0, None, None
        if start is not None:
            start_hash = DynamoType(start[self.hash_key_attr]).cast_value
            start_range = DynamoType(start[self.range_key_attr]).cast_value
            first = bisect_left(values, start_hash)
        for position in range(first, len(hashes)):
            partition = self.items.get(hashes[position])
            if not partition:
                continue
            ranges = sorted(partition, key=lambda r: r.cast_value)
            if start is not None and values[position] == start_hash:
                ranges = ranges[bisect_right([r.cast_value for r in ranges], start_range) :]
            for range_key in ranges:
                yield partition[range_key]

    def scan(
        self: Any,
        filters: dict[str, Any],
        limit: int,
        exclusive_start_key: dict[str, Any],
        filter_expression: Any = None,
        index_name: str | None = None,
        consistent_read: bool = False,
        projection_expression: list[list[str]] | None = None,
        segments: tuple[Any, Any] = (None, None),
    ) -> tuple[list[Any], int, dict[str, Any] | None]:
        if index_name or not self.range_key_attr:
            return original(  # type: ignore[no-any-return]
                self,
                filters,
                limit,
                exclusive_start_key,
                filter_expression,
                index_name,
                consistent_read,
                projection_expression,
                segments,
            )
        # moto's own loop over the items (limit and size, legacy filters), minus the walk to the start
        # key and the deep copy of each item: the answer is built from the items at once (moto turns
        # them into new dictionaries), under the lock of ``serialised_tables``
        results: list[Any] = []
        result_size = scanned_count = 0
        last_evaluated_key = None
        for item in ordered(self, tuple(segments), exclusive_start_key):
            size = item.size()
            if len(results) == limit or result_size + size > table_module.RESULT_SIZE_LIMIT:
                last_evaluated_key = self._get_last_evaluated_key(results[-1], index_name)
                break
            passes = True
            for attribute_name, (operator, values) in filters.items():
                attribute = item.attrs.get(attribute_name)
                if attribute:
                    if not attribute.compare(operator, values):
                        passes = False
                        break
                elif operator != "NULL":
                    passes = False
                    break
            if passes:
                results.append(item)
                result_size += size
            scanned_count += 1
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expression:
            results = [r.project(projection_expression) for r in results]
        return results, scanned_count, last_evaluated_key

    def undo() -> None:
        table_module.Table.scan = original  # type: ignore[method-assign]

    table_module.Table.scan = scan  # type: ignore[method-assign]
    return undo


#: Partitions added since the last page that a segment's order takes by merging (more) or one
#: insertion at a time (fewer).
MERGE_ABOVE = 64


def _segment_byte(hash_key: Any) -> int:
    """moto's segment rule (``Item.is_within_segment``, with ``moto.utilities.utils.md5_hash``): the
    first byte of the MD5 of the hash key's value, taken modulo the number of segments."""
    return hashlib.md5(hash_key.value.encode("utf8"), usedforsecurity=False).digest()[0]


def _key_value(hash_key: Any) -> Any:
    """moto's ``cast_value`` of a hash key (its ordering in a Scan); a string is its own."""
    return hash_key.value if hash_key.type == "S" else hash_key.cast_value


def _in_segment(hash_key: Any, segments: tuple[Any, Any], byte: int | None = None) -> bool:
    """Is the partition in the scan's segment? (``byte``: its :func:`_segment_byte`, if known)"""
    segment, total = segments
    if segment is None:
        return True
    return (_segment_byte(hash_key) if byte is None else byte) % total == segment


def linear_item_sizes() -> Callable[[], None]:
    """An item's size is checked once, over all its attributes (see the module docstring); returns
    the undo.

    Examples
    --------
    >>> undo = linear_item_sizes()
    >>> from moto.dynamodb.models.dynamo_type import DynamoType, Item
    >>> Item(DynamoType({"S": "a"}), None, {"PK": {"S": "a"}, "n": {"N": "1"}}).attrs["n"].value
    '1'
    >>> undo()
    """
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    original = dynamo_type.Item.__init__

    def build(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: dynamo_type.DynamoType(value) for key, value in attrs.items()}
        # what moto's ``LimitedSizeDict`` adds up when it sets the last attribute (the largest sum)
        if sum(bytesize(key) + value.size() for key, value in values.items()) > 405000:
            raise ItemSizeTooLarge
        self.attrs = dynamo_type.LimitedSizeDict(values)  # its later sets are checked as before

    def undo() -> None:
        dynamo_type.Item.__init__ = original  # type: ignore[method-assign]

    dynamo_type.Item.__init__ = build  # type: ignore[method-assign]
    return undo


#: members of DynamoDB's ``AttributeValue`` (a union: one of them set) written as moto writes them
_STRING_MEMBERS = ("S", "N")
_STRING_SET_MEMBERS = ("SS", "NS")
_BOOLEAN_MEMBERS = ("NULL", "BOOL")


def _as_string(value: Any) -> Any:
    """What moto's JSON serializer makes of a string member (``str`` of anything but empties)."""
    return str(value) if value not in (None, {}, []) else value


def direct_attribute_values() -> Callable[[], None]:
    """DynamoDB ``AttributeValue`` structures parsed and serialised by the members they hold (see the
    module docstring); returns the undo.

    Examples
    --------
    >>> undo = direct_attribute_values()
    >>> undo()
    """
    from moto.core import parse, serialize

    original_parse = parse.BaseJSONParser._parse_structure
    original_serialize = serialize.BaseJSONSerializer._serialize_type_structure

    def parse_structure(self: Any, shape: Any, value: Any) -> Any:
        if shape.name != "AttributeValue" or not isinstance(value, dict):
            return original_parse(self, shape, value)
        return parse_attribute(self, shape, value)

    def parse_attribute(self: Any, shape: Any, value: dict[str, Any]) -> Any:
        """What moto's walk gives: strings, numbers and booleans as they came, maps and lists member
        by member (without a shape lookup per value), blobs and sets by moto's own handlers."""
        members = shape.members
        parsed = self.MAP_TYPE()
        for name, raw in value.items():
            if raw is None or name not in members:
                continue
            if name in _STRING_MEMBERS or name in _BOOLEAN_MEMBERS:
                parsed[name] = raw
            elif name == "M" and isinstance(raw, dict):
                inner = self.MAP_TYPE()
                for key, item in raw.items():
                    inner[key] = (
                        parse_attribute(self, shape, item)
                        if isinstance(item, dict)
                        else self._parse_shape(members["M"].value, item)
                    )
                parsed[name] = inner
            elif name == "L" and isinstance(raw, list):
                parsed[name] = [
                    parse_attribute(self, shape, item)
                    if isinstance(item, dict)
                    else self._parse_shape(members["L"].member, item)
                    for item in raw
                ]
            else:
                parsed[name] = self._parse_shape(members[name], raw)
        return parsed

    def attribute_json(self: Any, value: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, member in value.items():
            if member is None:
                continue
            if name in _STRING_MEMBERS:
                out[name] = _as_string(member)
            elif name in _STRING_SET_MEMBERS:
                out[name] = [_as_string(v) for v in member]
            elif name in _BOOLEAN_MEMBERS:
                out[name] = member
            elif name == "B":
                out[name] = self._base64(member)
            elif name == "BS":
                out[name] = [self._base64(b) for b in member]
            elif name == "M":
                out[name] = {k: attribute_json(self, v) for k, v in member.items()}
            elif name == "L":
                out[name] = [attribute_json(self, v) for v in member]
        return out

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name != "AttributeValue" or not isinstance(value, dict):
            original_serialize(self, serialized, value, shape, key)
            return
        out = attribute_json(self, value)
        if key:
            self._default_serialize(serialized, out, shape, key)
        else:
            serialized.update(out)

    def undo() -> None:
        parse.BaseJSONParser._parse_structure = original_parse  # type: ignore[method-assign]
        serialize.BaseJSONSerializer._serialize_type_structure = original_serialize  # type: ignore[method-assign]

    parse.BaseJSONParser._parse_structure = parse_structure  # type: ignore[method-assign]
    serialize.BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]
    return undo


def item_level_transactions() -> Callable[[], None]:
    """``TransactWriteItems`` backs up the items it names, not whole tables; returns the undo.

    Examples
    --------
    >>> undo = item_level_transactions()
    >>> undo()
    """
    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    original = backend.transact_write_items
    module_copy = models.copy

    class _TablesByReference:
        """moto's transaction code reaches ``copy.deepcopy`` for its table backups: tables are
        returned as they are (the items are backed up below); everything else is copied."""

        @staticmethod
        def deepcopy(obj: Any, memo: Any = None) -> Any:
            return obj if isinstance(obj, models.Table) else copy.deepcopy(obj, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items[:100]:
            op: dict[str, Any] = next(iter(entry.values()), {})
            name = op.get("TableName") if isinstance(op, dict) else None
            if not isinstance(name, str) or name not in self.tables:
                continue
            table = self.tables[name]
            if "Item" in op:
                key = {table.hash_key_attr: op["Item"].get(table.hash_key_attr)}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"].get(table.range_key_attr)
            else:
                key = op.get("Key") or {}
            try:
                current = self.get_item(name, key)
            except Exception:  # an invalid key: moto's own validation answers it below
                continue
            backups.append((name, key, None if current is None else current.to_json()["Attributes"]))
        try:
            original(self, transact_items)
        except Exception:
            for name, key, attrs in reversed(backups):
                try:
                    if attrs is None:
                        self.delete_item(name, key)
                    else:
                        self.put_item(name, attrs)
                except Exception:  # the item was never written
                    pass
            raise

    def undo() -> None:
        backend.transact_write_items = original  # type: ignore[method-assign]
        models.copy = module_copy  # type: ignore[attr-defined]

    models.copy = _TablesByReference  # type: ignore[attr-defined,assignment]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    return undo


def filtered_streams(filters: dict[str, list[Any] | None]) -> Callable[[], None]:
    """Keep only the stream records a mapping's filter passes (see the module docstring); ``filters``
    is ``LocalTemplate.stream_filters()``. Returns the undo.

    The record's keys and event name are matched first, without building it; the full record (its
    images) only when a pattern looks beyond those.

    Examples
    --------
    >>> undo = filtered_streams({"t": [{"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "EDGES#"}]}}}}]})
    >>> undo()
    """
    from moto.dynamodb.models.table import StreamRecord, StreamShard

    from renown.local.pollers import matcher

    original = StreamShard.add
    tests = {name: [matcher(p) for p in patterns] for name, patterns in filters.items() if patterns}
    shallow = {"eventName", "eventSource", "awsRegion", "dynamodb"}

    def needs_images(pattern: Any) -> bool:
        return not set(pattern) <= shallow or not set(pattern.get("dynamodb", {})) <= {"Keys"}

    deep = {name for name, patterns in filters.items() if patterns and any(map(needs_images, patterns))}

    def add(self: Any, old: Any, new: Any) -> None:
        wanted = tests.get(self.table.name)
        if not wanted:
            return original(self, old, new)
        event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        if self.table.name in deep:
            view = self.table.stream_specification["StreamViewType"]
            record = StreamRecord(self.table, view, event, old, new, 0).to_json()
        else:
            item = old if old is not None else new
            keys = {self.table.hash_key_attr: item.hash_key.to_json()}
            if self.table.range_key_attr is not None:
                keys[self.table.range_key_attr] = item.range_key.to_json()
            record = {"eventName": event, "eventSource": "aws:dynamodb", "dynamodb": {"Keys": keys}}
        if any(test(record) for test in wanted):
            original(self, old, new)
        return None

    def undo() -> None:
        StreamShard.add = original  # type: ignore[method-assign]

    StreamShard.add = add  # type: ignore[method-assign]
    return undo


def cached_backend_lookup() -> Callable[[], None]:
    """moto's server finds the backend of every request by its host, listing moto's package directory
    each time (``list_of_moto_modules``: a tenth of a small request's time); the answer for a host never
    changes, so it is kept. Returns the undo.

    Examples
    --------
    >>> undo = cached_backend_lookup()
    >>> undo()
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    known: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = original(self, host)
        return known[host]

    def undo() -> None:
        DomainDispatcherApplication.get_backend_for_host = original  # type: ignore[method-assign]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
    return undo


#: request targets (``X-Amz-Target``) of the services whose backends share the table dictionaries
TABLE_TARGETS = ("DynamoDB_", "DynamoDBStreams_")


class TurnLock:
    """A lock handed over in the order it was asked for (``threading.Lock`` is not: a thread that
    releases it and asks again at once, such as the four segment scans of the scoring pass's
    snapshot, can keep an API request waiting for many turns), bulk turns (``turn(bulk=True)``: a
    Scan page) after every other waiting one, so that a short request waits for at most the page
    being read, not for the pages queued before it.

    Examples
    --------
    >>> lock = TurnLock()
    >>> with lock.turn():
    ...     lock.held
    True
    >>> lock.held
    False
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: collections.deque[threading.Event] = collections.deque()
        self._bulk: collections.deque[threading.Event] = collections.deque()
        self.held = False

    @contextmanager
    def turn(self, bulk: bool = False) -> Iterator[None]:
        self.acquire(bulk)
        try:
            yield
        finally:
            self.release()

    def acquire(self, bulk: bool = False) -> None:
        with self._guard:
            if not self.held:
                self.held = True
                return
            turn = threading.Event()
            (self._bulk if bulk else self._waiting).append(turn)
        turn.wait()  # handed over by the releasing thread: ``held`` stays True

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().set()
            elif self._bulk:
                self._bulk.popleft().set()
            else:
                self.held = False


#: requests that read many items (a page of up to 1 MB): they take their turn after the others
BULK_TARGETS = (".Scan",)


def serialised_tables(app: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap moto's WSGI ``app`` so that DynamoDB and DynamoDB Streams requests run one at a time.

    The response is produced under the lock (moto builds it in full before returning). Requests of
    other services pass through concurrently.

    Examples
    --------
    >>> app = serialised_tables(lambda environ, start_response: [b"{}"])
    >>> app({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, None)
    [b'{}']
    """
    lock = TurnLock()  # in turn: an API request waits for the requests before it, not for a scan

    def serialised(environ: dict[str, Any], start_response: Any) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(TABLE_TARGETS):
            return app(environ, start_response)
        with lock.turn(bulk=str(environ.get("HTTP_X_AMZ_TARGET", "")).endswith(BULK_TARGETS)):
            response = app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()

    return serialised


def _exit_with_parent(parent_pid: int) -> None:
    while True:
        time.sleep(1)
        try:
            os.kill(parent_pid, 0)
        except OSError:
            os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description="moto server for the Renown local stack")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lambda-endpoint", required=True)
    parser.add_argument("--parent-pid", type=int, default=os.getppid())
    parser.add_argument("--stream-filters", default="{}", help="JSON: LocalTemplate.stream_filters()")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ["MOTO_PORT"] = str(args.port)  # the Step Functions interpreter calls Lambda here
    forward_invocations(args.lambda_endpoint)
    partition_queries()
    linear_scans()
    linear_item_sizes()
    direct_attribute_values()
    item_level_transactions()
    filtered_streams(json.loads(args.stream_filters))
    cached_backend_lookup()
    threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    app = serialised_tables(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
