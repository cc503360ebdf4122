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
* moto backs up every table a ``TransactWriteItems`` touches by copying the whole table (a cost
  that grows with the table: ingest writes each delivery in a transaction, so a replay slowed down
  quadratically and a copy failed under concurrent writes). ``item_level_transactions`` keeps a
  backup of the items the transaction names instead and restores those when it is cancelled
  (same outcome, conditions and errors);
* moto's server answers each request on its own thread, and its DynamoDB backend is not thread-safe:
  a Scan, a Query on an index or a transaction walking the table's dictionaries while another thread
  adds a partition fails ("dictionary changed size during iteration"), and a transaction's checks and
  writes can interleave with another writer. ``serialised_tables`` runs DynamoDB and DynamoDB Streams
  requests one at a time (other services stay concurrent: a Step Functions task calls Lambda, whose
  handler calls DynamoDB while the task waits).
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import threading
import time
from collections.abc import Callable
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


#: request targets (``X-Amz-Target``) of the services whose backends share the table dictionaries
TABLE_TARGETS = ("DynamoDB_", "DynamoDBStreams_")


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
    lock = threading.Lock()

    def serialised(environ: dict[str, Any], start_response: Any) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(TABLE_TARGETS):
            return app(environ, start_response)
        with lock:
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
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ["MOTO_PORT"] = str(args.port)  # the Step Functions interpreter calls Lambda here
    forward_invocations(args.lambda_endpoint)
    partition_queries()
    item_level_transactions()
    threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    app = serialised_tables(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
