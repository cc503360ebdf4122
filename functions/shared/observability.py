"""One place for logging and metrics (powertools), shared by every function.

Tracing is left out on purpose: the X-Ray SDK is in maintenance and would add botocore to the
dependency layer; enable it per function in AWS if needed.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="renown")
metrics = Metrics(namespace="Renown", service="renown")

__all__ = ["MetricUnit", "logger", "metrics"]
