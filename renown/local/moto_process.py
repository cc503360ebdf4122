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
* moto's ``TransactWriteItems`` deep-copies the whole table once per item of the transaction (for its
  rollback): ingest claims every activity in transactions of up to 100 items, so the copies grow with
  the table. ``checked_transactions`` checks every condition first and applies only when all hold
  (for valid requests the same all-or-nothing outcome, one transaction at a time): nothing is copied.
"""

from __future__ import annotations

import argparse
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


def checked_transactions() -> Callable[[], None]:
    """``TransactWriteItems`` without moto's rollback copies (see the module docstring); returns the undo.

    Examples
    --------
    >>> undo = checked_transactions()
    >>> undo()
    """
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    lock = threading.RLock()

    def deepcopy(value: Any, *args: Any) -> Any:  # tables are not copied; items are (stream images)
        return value if isinstance(value, Table) else copy.deepcopy(value, *args)

    no_copy = types.SimpleNamespace(deepcopy=deepcopy)

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            reasons: list[tuple[Any, Any, Any]] = []
            for entry in transact_items:
                op_type, op = next(iter(entry.items()))
                condition = op.get("ConditionExpression")
                if condition is None or op.get("TableName") not in self.tables:
                    reasons.append((None, None, None))
                    continue
                table = self.get_table(op["TableName"])
                if op_type == "Put":
                    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = op["Item"][table.range_key_attr]
                else:
                    key = op["Key"]
                holds = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                ).expr(self.get_item(op["TableName"], key))
                failed = ("ConditionalCheckFailed", "The conditional request failed", None)
                reasons.append((None, None, None) if holds else failed)
            if any(code is not None for code, _, _ in reasons):
                raise TransactionCanceledException(reasons)
            copier, models.copy = models.copy, no_copy  # type: ignore[assignment]
            try:
                original(self, transact_items)
            finally:
                models.copy = copier

    def undo() -> None:
        models.DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]

    models.DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
    return undo


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
    checked_transactions()
    threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
