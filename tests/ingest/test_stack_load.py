"""A small version of the exactly-once load check on the local stack (moto server process, the real
handlers behind the local API Gateway, SQS and stream pollers).

It runs ``tests/ingest/measure_pipeline.py --only load`` in its own process: the local stack sets the
process environment (endpoint, table and queue names) that the moto-based ingest tests must not see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("measure_pipeline.py")


@pytest.mark.slow
def test_concurrent_signed_deliveries_land_exactly_once() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "load", "--deliveries", "120", "--threads", "8", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])["load"]
    assert result["accepted"] == 120 and result["refused"] == 0
    assert result["exactly_once"], result
    assert result["in_table"] == 120 and result["counted_twice"] == 0
    # every replay was acknowledged without being queued again
    assert sum(result["statuses"].values()) == 120 + result["replays"]
