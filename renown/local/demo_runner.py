"""What ``renown serve`` does after the stack is up: the multi-network demo as signed webhook
deliveries, a first scoring pass through the rescoring workflow (the service is ready), then the
complete Higgs networks through the backfill function and a scoring pass over everything; progress
is reported all along (the backfill's from its job record)."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from renown.local.context import LocalLambdaContext
from renown.local.demo import Progress, Replayer, wait_until
from renown.local.higgs_backfill import higgs_object, object_key

log = logging.getLogger("renown.demo")

PASS_WAIT_S = 6 * 3600  # the longest a demo scoring pass is waited for
BACKFILL_JOB = "higgs-twitter"  # the job id of the Higgs backfill (its record: BACKFILL#higgs-twitter)


class DemoRunner:
    def __init__(self, stack: Any, settings: Any, datasets: Path, limit: int = 0) -> None:
        self.stack = stack
        self.settings = settings
        self.datasets = datasets
        self.limit = limit
        self.progress = Progress()
        self.replayer = Replayer(stack.url, self.progress)
        self.last_pass: dict[str, Any] = {}
        self.stopping = threading.Event()  # set when the service shuts down: stop quietly
        self.higgs: dict[str, int] = {}  # engagements and accounts of the Higgs backfill
        self.backfill_result: dict[str, Any] = {}

    # --- pipeline state ----------------------------------------------------------------------------
    def backlog(self) -> int:
        """Deliveries waiting in the ingest queue or being processed."""
        sqs = self.stack.moto.client("sqs")
        url = self.stack.template.ref("IngestQueue")
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def queue_empty(self) -> bool:
        return self.backlog() == 0

    def drain(self, timeout_s: float = 600) -> bool:
        # the queue attributes cost moto a pass over every message: ask rarely, and only once the
        # processor's pollers have gone idle
        def idle_and_empty() -> bool:
            pollers = [p for p in self.stack.pollers if p.name.startswith("sqs:")]
            return all(p.idle.is_set() for p in pollers) and self.queue_empty()

        return wait_until(idle_and_empty, timeout_s, interval_s=2.0)

    # --- phases ----------------------------------------------------------------------------------
    def multi_network(self) -> None:
        from renown.demo_payloads import multi_network_demo

        for network, body, headers in multi_network_demo(self.settings):
            self.replayer.post(network, body, headers)
        self.link_demo_people()

    def link_demo_people(self) -> None:
        """One person, one profile: each demo person's accounts go to their X profile (the API's
        account-linking route), before the first scoring pass."""
        from renown.demo_payloads import DEMO_USERS
        from renown.local.demo_links import Linker

        self.drain(timeout_s=120)
        signing = self.settings.widget_signing_key.get_secret_value().encode()
        Linker(self.stack.url, self.settings.dev_api_key.get_secret_value(), signing).link_people(DEMO_USERS)

    def score(self, version: str | None = None) -> dict[str, Any]:
        """One scoring pass through the rescoring state machine (activating the version)."""
        version = version or self.settings.algorithm_version
        sfn = self.stack.moto.client("stepfunctions")
        arn = self.stack.template.ref("RescoreStateMachine")
        started = sfn.start_execution(
            stateMachineArn=arn,
            name=f"demo-{version}-{int(time.time() * 1000)}",
            input=json.dumps({"version": version, "mode": "settle", "source": "demo"}),
        )
        execution = started["executionArn"]
        final: dict[str, Any] = {}

        def finished() -> bool:
            final.update(sfn.describe_execution(executionArn=execution))
            return final["status"] != "RUNNING"

        # as long as the pass runs (a whole data set on a busy 2-core machine takes longer than any
        # fixed guess), unless the service stops
        wait_until(lambda: self.stopping.is_set() or finished(), PASS_WAIT_S, 1.0)
        if self.stopping.is_set():
            raise RuntimeError("the service stopped during the scoring pass")
        if final.get("status") != "SUCCEEDED":
            raise RuntimeError(
                f"scoring pass {final.get('status')}: {final.get('error')} {final.get('cause')}"
            )
        self.last_pass = json.loads(final.get("output") or "{}")
        return self.last_pass

    def run(self) -> None:
        try:
            self._run()
        except Exception:
            if self.stopping.is_set():  # the stack went away under the replay: not a failure
                log.info("demo loading stopped with the service")
                return
            log.exception("demo loading failed")
            self.progress.phase = "failed (see the log); the service runs without demo data"
            self.progress.ready = True

    def _run(self) -> None:
        now = int(time.time())
        higgs_dir = self.datasets / "higgs-twitter"
        self.progress.phase = "multi-network demo: signed webhook deliveries"
        self.multi_network()
        self.progress.phase = "processing the queue"
        self.drain()
        self.progress.phase = "scoring pass (multi-network demo)"
        self.score()
        self.progress.ready = True
        if not higgs_dir.exists():
            log.warning("no Higgs data at %s: only the multi-network demo is loaded", higgs_dir)
            self.progress.phase = "done"
            return
        self.progress.phase = "backfill: reading the Higgs networks"
        self.backfill_higgs(higgs_dir, now)
        self.progress.phase = "scoring pass over everything"
        self.score()
        self.progress.phase = "done"

    # --- backfill ----------------------------------------------------------------------------------
    def backfill_higgs(self, higgs_dir: Path, now: int) -> dict[str, Any]:
        """The complete Higgs networks through the backfill function (one S3 object)."""
        body, engagements, accounts = higgs_object(higgs_dir, now, self.limit)
        self.higgs = {"engagements": engagements, "accounts": accounts}
        bucket = self.stack.template.physical["ArtifactsBucket"]
        key = object_key(higgs_dir, now, self.limit)
        self.stack.moto.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
        self.progress.phase = (
            f"backfill: importing {engagements:,} Higgs engagements of {accounts:,} accounts"
        )
        function = self.stack.function_name("BackfillFunction")
        event = {"bucket": bucket, "key": key, "job_id": BACKFILL_JOB}
        started = time.monotonic()
        result: dict[str, Any] = self.stack.handlers[function](
            event, LocalLambdaContext(function_name=function, timeout_s=3600)
        )
        self.backfill_result = result | {"wall_s": round(time.monotonic() - started, 1)}
        log.info("backfill done: %s", json.dumps(self.backfill_result))
        return result

    def backfill_status(self) -> dict[str, Any]:
        """The job record of the Higgs backfill (phase, items done of total), or {} before it starts."""
        from functions.ingest.backfill import job_key

        try:
            answer = self.stack.moto.client("dynamodb").get_item(
                TableName=self.stack.template.physical["RenownTable"],
                Key={k: {"S": v} for k, v in job_key(BACKFILL_JOB).items()},
            )
        except Exception:  # the stack is stopping
            return {}
        item = answer.get("Item") or {}
        return {
            k: next(iter(v.values())) for k, v in item.items() if k in ("status", "phase", "done", "total")
        }

    def summary(self) -> str:
        return ", ".join(
            f"{k}={v}" for k, v in self.last_pass.items() if k in ("profiles", "engagements", "iterations")
        )
