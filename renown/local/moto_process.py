"""The moto server process of the local stack (``python -m renown.local.moto_process``).

moto runs in its own process, as AWS runs apart from the functions. One adapter is installed
here: moto's Step Functions interpreter calls Lambda through the "simple" backend, which only
echoes payloads; ``forward_invocations`` makes that backend forward each invocation to the Lambda
Invoke API that the local stack serves, where the real handlers run.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
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
    threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
