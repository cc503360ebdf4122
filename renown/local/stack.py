"""The whole service on one machine: moto server, resources from the template, in-process handlers
driven as AWS drives them (API events, SQS batches, stream records, the Step Functions executor)."""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from renown.local.gateway import LocalGateway, routes_from_template
from renown.local.lambda_service import LambdaService
from renown.local.moto_stack import MotoStack
from renown.local.pollers import Poller, SqsPoller, StreamPoller
from renown.local.template import LocalTemplate

log = logging.getLogger("renown.local")
ROOT = Path(__file__).resolve().parents[2]


def load_handler(dotted: str) -> Callable[[dict[str, Any], Any], Any]:
    module_name, _, attribute = dotted.rpartition(".")
    handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module_name), attribute)
    return handler


class LocalStack:
    """Start with ``start()``, stop with ``stop()``; ``url`` is the local API Gateway address."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        template_path: Path = ROOT / "template.yaml",
        extra_pages: dict[str, Callable[[Request], Response | None]] | None = None,
    ) -> None:
        self.template = LocalTemplate.load(template_path)
        self.moto = MotoStack(self.template)
        self.host, self.port = host, port
        self.extra_pages = extra_pages or {}
        self.handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self.pollers: list[Poller] = []
        self.http: BaseWSGIServer | None = None
        self.lambda_http: BaseWSGIServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def function_name(self, logical_id: str) -> str:
        return self.template.physical[logical_id]

    def start(self, http: bool = True) -> None:
        # the Lambda Invoke API first: moto's Step Functions interpreter calls the handlers there
        self.lambda_http = make_server("127.0.0.1", 0, LambdaService(self.handlers), threaded=True)
        self._serve(self.lambda_http, "lambda")
        self.moto.start(lambda_endpoint=f"http://127.0.0.1:{self.lambda_http.server_port}")
        self.moto.create_resources()
        functions = self.template.functions()
        os.environ["RENOWN_AWS_ENDPOINT_URL"] = self.moto.endpoint
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Renown")
        for spec in functions.values():
            # an empty value in the template switches a feature off in AWS (the dev API key): locally
            # the settings' development default stands
            os.environ.update({k: v for k, v in spec.environment.items() if v != ""})
        os.environ["RENOWN_STAGE"] = "local"
        # moto serves one DynamoDB request at a time: short snapshot pages keep API lookups waiting
        # for a tenth of a second, not for the seconds a 1 MB page takes there
        os.environ.setdefault("RENOWN_SNAPSHOT_PAGE_ITEMS", "500")
        for logical_id in self.template.of_type("AWS::Serverless::StateMachine"):
            os.environ.setdefault("RENOWN_STATE_MACHINE_ARN", self.template.ref(logical_id))
        self._reset_settings()
        for logical_id, spec in functions.items():
            self.handlers[self.function_name(logical_id)] = load_handler(spec.handler)
        self._start_pollers(functions)
        if http:
            self._start_http(functions)

    @staticmethod
    def _reset_settings() -> None:
        from functions.shared.aws import reset_clients
        from functions.shared.settings import get_settings

        get_settings.cache_clear()
        reset_clients()

    def _start_pollers(self, functions: dict[str, Any]) -> None:
        for logical_id, spec in functions.items():
            name = self.function_name(logical_id)
            for event in spec.events.values():
                props = event.get("Properties", {})
                if event.get("Type") == "SQS":
                    queue_logical = props["Queue"]["Fn::GetAtt"][0]
                    self.pollers.append(
                        SqsPoller(
                            self.moto.client("sqs"),
                            self.template.ref(queue_logical),
                            self.template.get_att(queue_logical, "Arn"),
                            self.handlers[name],
                            name,
                            batch_size=int(props.get("BatchSize", 10)),
                        )
                    )
                elif event.get("Type") == "DynamoDB":
                    table_logical = props["Stream"]["Fn::GetAtt"][0]
                    table = self.template.physical[table_logical]
                    stream_arn = self.moto.client("dynamodb").describe_table(TableName=table)["Table"][
                        "LatestStreamArn"
                    ]
                    filters = [
                        json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", [])
                    ]
                    self.pollers.append(
                        StreamPoller(
                            self.moto.client("dynamodbstreams"),
                            stream_arn,
                            self.handlers[name],
                            name,
                            batch_size=int(props.get("BatchSize", 100)),
                            filters=filters,
                        )
                    )
        for poller in self.pollers:
            poller.start()

    def _start_http(self, functions: dict[str, Any]) -> None:
        api = next(iter(self.template.of_type("AWS::Serverless::Api").values()))
        gateway = LocalGateway(
            routes_from_template(functions, self.template.physical),
            self.handlers,
            cors=api["Properties"].get("Cors", {}),
            extra=self.extra_pages,
        )
        self.http = make_server(self.host, self.port, gateway, threaded=True)
        self.port = self.http.server_port
        self._serve(self.http, "gateway")

    @staticmethod
    def _serve(server: BaseWSGIServer, name: str) -> None:
        threading.Thread(target=server.serve_forever, name=name, daemon=True).start()

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        # one deadline for all of them (they are daemon threads: one still inside a handler call
        # ends with the process)
        deadline = time.monotonic() + 3.0
        for poller in self.pollers:
            poller.join(timeout=max(0.0, deadline - time.monotonic()))
        for server in (self.http, self.lambda_http):
            if server is not None:
                server.shutdown()
        self.moto.stop()
