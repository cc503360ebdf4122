"""The API function answers lookups without the scoring stack: what importing its handler really loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_IN_THE_API = ("numba", "numpy", "llvmlite", "core", "boto3", "s3transfer", "aws_xray_sdk")


def test_importing_the_api_handler_loads_no_scoring_stack_and_no_boto3() -> None:
    probe = "import json, sys; import functions.api.handler; print(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "RENOWN_WIDGET_SIGNING_KEY": "k", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    loaded = {name for name in NOT_IN_THE_API if name in modules}
    assert not loaded, f"functions.api.handler imports {loaded}"
    # what it does need for a lookup: the web stack and botocore's DynamoDB client
    assert {"fastapi", "mangum", "pydantic", "botocore"} <= modules
