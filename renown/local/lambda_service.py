"""The Lambda Invoke API, locally: ``POST /2015-03-31/functions/{name}/invocations`` runs the
in-process handler. moto's Step Functions interpreter reaches the handlers through it."""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from renown.local.context import LocalLambdaContext

log = logging.getLogger("renown.local")
Handler = Callable[[dict[str, Any], Any], Any]
_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


class LambdaService:
    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers

    def invoke(self, name: str, payload: bytes) -> tuple[bytes, bool]:
        """Run ``name`` on ``payload``; returns the response body and whether it is a function error."""
        handler = self.handlers.get(name.rsplit(":", 1)[-1])
        if handler is None:
            return json.dumps({"errorType": "ResourceNotFoundException", "errorMessage": name}).encode(), True
        try:
            result = handler(
                json.loads(payload or b"{}"), LocalLambdaContext(function_name=name, timeout_s=900)
            )
        except Exception as exc:
            log.exception("%s failed: %s", name, exc)
            error = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc)[-3:],
            }
            return json.dumps(error).encode(), True
        return json.dumps(result).encode(), False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        found = _PATH.match(request.path)
        if request.method != "POST" or not found:
            return Response("not found", 404)(environ, start_response)
        body, failed = self.invoke(found.group("name"), request.get_data())
        response = Response(body, 200, mimetype="application/json")
        if failed:
            response.headers["x-amz-function-error"] = "Unhandled"
        return response(environ, start_response)
