"""The embedded stand-in for AWS: a moto server process, with resources made from ``template.yaml``."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from typing import Any

import boto3
import requests

from renown.local.template import REGION, LocalTemplate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_table(ddb: Any, name: str, props: dict[str, Any]) -> None:
    """Create a table from its template ``Properties`` (keys, indexes, stream, TTL)."""
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if "GlobalSecondaryIndexes" in props:
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if "StreamSpecification" in props:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    ddb.create_table(**kwargs)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def create_usage_plan(apigateway: Any, name: str, props: dict[str, Any]) -> str:
    """A usage plan with the template's quota and throttle, named ``name`` (its ``UsagePlanName`` as the
    local stack resolves it, which ``RENOWN_USAGE_PLANS`` names too); its API stages are not emulated.
    Returns its id."""
    quota = props.get("Quota") or {}
    throttle = props.get("Throttle") or {}
    kwargs: dict[str, Any] = {"name": name, "description": str(props.get("Description", ""))}
    if quota:
        kwargs["quota"] = {"limit": int(quota["Limit"]), "period": str(quota["Period"])}
    if throttle:
        kwargs["throttle"] = {
            "burstLimit": int(throttle["BurstLimit"]),
            "rateLimit": float(throttle["RateLimit"]),
        }
    plan_id: str = apigateway.create_usage_plan(**kwargs)["id"]
    return plan_id


def create_queue(sqs: Any, name: str, props: dict[str, Any], resolve: Callable[[Any], str | None]) -> str:
    """Create a queue from its template ``Properties``; ``resolve`` turns the dead-letter target into
    an ARN. Returns the queue URL."""
    attributes: dict[str, str] = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod"):
        if key in props:
            attributes[key] = str(props[key])
    redrive = props.get("RedrivePolicy")
    if redrive:
        target = resolve(redrive["deadLetterTargetArn"])
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": target, "maxReceiveCount": str(redrive["maxReceiveCount"])}
        )
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


class MotoStack:
    """A moto server on loopback (its own process) plus the resources declared in the template."""

    def __init__(self, template: LocalTemplate, port: int = 0) -> None:
        self.template = template
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        template.endpoint = self.endpoint

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, lambda_endpoint: str, timeout_s: float = 60) -> None:
        """Start the server; Lambda invocations from Step Functions go to ``lambda_endpoint``."""
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
        os.environ["AWS_DEFAULT_REGION"] = REGION
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "renown.local.moto_process",
                "--port",
                str(self.port),
                "--lambda-endpoint",
                lambda_endpoint,
                "--parent-pid",
                str(os.getpid()),
                "--stream-filters",
                json.dumps(self.template.stream_filters()),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                requests.get(f"{self.endpoint}/moto-api/data.json", timeout=2)
                break
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.1)
        config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        requests.post(f"{self.endpoint}/moto-api/config", json=config, timeout=10).raise_for_status()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    # --- resources -----------------------------------------------------------------------------
    def create_resources(self) -> None:
        """Create tables, queues, buckets, functions and state machines as the template declares."""
        tpl = self.template
        for logical_id in tpl.of_type("AWS::S3::Bucket"):
            self.client("s3").create_bucket(Bucket=tpl.physical[logical_id])
        for logical_id, res in tpl.of_type("AWS::DynamoDB::Table").items():
            self._create_table(tpl.physical[logical_id], res["Properties"])
        for logical_id, res in tpl.of_type("AWS::ApiGateway::UsagePlan").items():
            name = tpl.resolve(res["Properties"].get("UsagePlanName")) or tpl.physical[logical_id]
            create_usage_plan(self.client("apigateway"), name, res["Properties"])
        queues = tpl.of_type("AWS::SQS::Queue")
        # dead-letter queues first: the others point at them
        order = sorted(queues, key=lambda k: "RedrivePolicy" in queues[k].get("Properties", {}))
        for logical_id in order:
            self._create_queue(tpl.physical[logical_id], queues[logical_id].get("Properties", {}))
        role = self.client("iam").create_role(
            RoleName="renown-local",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        for logical_id in tpl.of_type("AWS::Serverless::Function"):
            self._create_function(tpl.physical[logical_id], role)
        for logical_id in tpl.of_type("AWS::Serverless::StateMachine"):
            self.client("stepfunctions").create_state_machine(
                name=tpl.physical[logical_id],
                definition=tpl.state_machine_definition(logical_id),
                roleArn=role,
            )

    def _create_table(self, name: str, props: dict[str, Any]) -> None:
        create_table(self.client("dynamodb"), name, props)

    def _create_queue(self, name: str, props: dict[str, Any]) -> None:
        create_queue(self.client("sqs"), name, props, self.template.resolve)

    def _create_function(self, name: str, role: str) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("handler.py", "# runs in-process on the local stack\n")
        self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
