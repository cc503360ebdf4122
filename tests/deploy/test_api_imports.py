"""The API function answers lookups without the scoring stack: what importing its handler really loads,
and what it builds at import (its cold start; timings are in ``measure_cold_start.py``, not here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import LOCAL_PYVER
from tests.deploy.lambda_layout import LAYER_DIRS, ROOT, build_function
from tests.deploy.measure_cold_start import RUNTIME_SDK

NOT_IN_THE_API = (
    "numba",
    "numpy",
    "llvmlite",
    "scipy",
    "core",
    "boto3",
    "s3transfer",
    "aws_xray_sdk",
    "aws_lambda_powertools",
    "moto",
    "PIL",
    "functions.rescore",
    "functions.ingest",
)
#: every third-party package a lookup needs: the web stack, settings, botocore's DynamoDB client
LOOKUP_PACKAGES = {
    "annotated_doc",
    "annotated_types",
    "anyio",
    "botocore",
    "dateutil",  # botocore
    "dotenv",  # pydantic_settings
    "fastapi",
    "jmespath",  # botocore
    "mangum",
    "opentelemetry",  # fastapi's telemetry hooks (the API only)
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "six",  # dateutil
    "starlette",
    "typing_extensions",
    "typing_inspection",
    "urllib3",  # botocore
}

PROBE = """
import json, sys
import functions.api.handler as h
print(json.dumps({"modules": sorted(sys.modules), "stdlib": sorted(sys.stdlib_module_names),
                  "openapi_built": h.app.openapi_schema is not None,
                  "client_created": h.app.state.store._client is not None}))
"""


def _import_handler(layers: Path | None = None, work: Path | None = None) -> dict[str, Any]:
    """Import the handler in a fresh process: from this checkout with the virtualenv, or (``layers``)
    as Lambda lays it out: the function's code, the DepsLayer and the runtime's SDK only."""
    env = {**os.environ, "RENOWN_WIDGET_SIGNING_KEY": "k", "AWS_DEFAULT_REGION": "us-east-1"}
    args, cwd = [sys.executable, "-c", PROBE], ROOT
    if layers is not None and work is not None:
        cwd = build_function(work / "task", pyver=LOCAL_PYVER)
        sdk = work / "runtime"
        sdk.mkdir()
        site = Path(str(__import__("boto3").__file__)).parents[1]
        for name in RUNTIME_SDK:
            if (site / name).exists():
                (sdk / name).symlink_to(site / name)
        python_path = [str(cwd), str(layers / LAYER_DIRS["DepsLayer"] / "python"), str(sdk)]
        env = {**env, "PYTHONPATH": os.pathsep.join(python_path), "PYTHONDONTWRITEBYTECODE": "1"}
        args = [sys.executable, "-s", "-S", "-c", PROBE]
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_api_handler_loads_no_scoring_stack_and_no_boto3() -> None:
    modules = set(_import_handler()["modules"])
    loaded = {name for name in NOT_IN_THE_API if name in modules}
    assert not loaded, f"functions.api.handler imports {loaded}"
    # what it does need for a lookup: the web stack and botocore's DynamoDB client
    assert {"fastapi", "mangum", "pydantic", "botocore"} <= modules


@pytest.mark.slow
def test_the_api_imports_only_what_a_lookup_needs(local_layers: Path, tmp_path: Path) -> None:
    """A package outside this list costs every cold start: import it inside the route that needs it.
    (In the virtualenv botocore would also pick up pyOpenSSL, awscrt and certifi: Lambda has none.)"""
    probe = _import_handler(local_layers, tmp_path)
    top = {name.split(".")[0] for name in probe["modules"]} - set(probe["stdlib"])
    extra = top - LOOKUP_PACKAGES - {"functions", "__main__", "_sysconfigdata__linux_x86_64-linux-gnu"}
    assert not extra, f"functions.api.handler imports {sorted(extra)} (see LOOKUP_PACKAGES)"
    # the DepsLayer ships no pydantic.v1, which FastAPI would otherwise import to reject v1 models
    assert "pydantic.v1" not in probe["modules"]


def test_init_creates_the_dynamodb_client_and_no_openapi_document() -> None:
    probe = _import_handler()
    assert probe["client_created"], "the client is made once, at init (not on the first request)"
    assert not probe["openapi_built"], "/openapi.json is generated on its first request only"


def test_problem_responses_build_no_models_at_import_and_their_schema_resolves() -> None:
    """``responses=`` carry a ``$ref``, not a ``model`` (FastAPI would build a pydantic field per route
    and status at import); the document still defines everything it refers to."""
    from functions.api.app import create_app
    from functions.api.routers import accounts, actions, discovery, health, identity, profiles, usage, widgets

    routers = (accounts, actions, discovery, health, identity, profiles, usage, widgets)
    routes = [route for module in routers for route in module.router.routes]
    with_models = [getattr(r, "path", r) for r in routes if getattr(r, "response_fields", None)]
    assert not with_models, f"problem responses with a model: {with_models}"

    spec = create_app(store=object()).openapi()  # type: ignore[arg-type]
    schemas = spec["components"]["schemas"]
    refs: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(spec)
    missing = {ref for ref in refs if ref.removeprefix("#/components/schemas/") not in schemas}
    assert not missing, missing
    assert {"ProblemDetails", "FieldError"} <= set(schemas)
    problem = spec["paths"]["/v1/profiles/{profile_id}/score"]["get"]["responses"]["404"]
    assert problem["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/ProblemDetails"
    }


def test_the_webhook_receiver_sends_to_its_queue_without_boto3() -> None:
    """The receiver's client is botocore's own (``functions.shared.aws``): boto3 and s3transfer would
    add about 0.1 s to the cold start of the function that answers the networks' webhooks."""
    probe = (
        "import json, sys; from functions.ingest.receiver import handler; "
        "from functions.shared import aws; aws.client('sqs'); print(json.dumps(sorted(sys.modules)))"
    )
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not {"boto3", "s3transfer"} & modules, "the webhook receiver imports boto3"
    assert "botocore" in modules
