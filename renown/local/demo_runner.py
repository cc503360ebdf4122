"""What ``renown serve`` does after the stack is up: replay demo data as signed webhook deliveries,
wait for the pipeline to drain, run a scoring pass through the rescoring workflow, report progress."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from renown.local.demo import Progress, Replayer, author_post, batches_by_author, read_higgs, wait_until

log = logging.getLogger("renown.demo")

#: seconds of replay before the first scoring pass (the service is ready after it); the rest of the
#: replay goes on in the background, followed by another pass
FIRST_PHASE_S = 45.0
PER_DELIVERY = 25
#: the replay waits while more than this many deliveries wait in the queue (backpressure)
MAX_BACKLOG = 10


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
    def deliveries(self, engagements: list[Any]) -> Any:
        from renown.demo_payloads import twitter_delivery

        secret = self.settings.webhook_secret("twitter")
        posted: dict[str, int] = defaultdict(int)
        for count, batch in enumerate(batches_by_author(engagements, PER_DELIVERY)):
            if self.stopping.is_set():
                return
            if count % 20 == 0:
                while self.backlog() > MAX_BACKLOG and not self.stopping.is_set():
                    time.sleep(0.5)
            # deliveries carry the time they are sent: the receiver refuses stale ones, as in production
            now = int(time.time())
            author = batch[0].author
            post = (author, author, "post", now, author_post(author, posted[author]))
            posted[author] += 1
            body, headers = twitter_delivery(
                [post] + [(e.engager, e.author, e.kind, now, e.text) for e in batch], {}, secret, author
            )
            yield "twitter", body, headers

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

        wait_until(finished, 900, 1.0)
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
        self.progress.phase = "multi-network demo deliveries"
        self.multi_network()
        engagements = read_higgs(higgs_dir, now=now, limit=self.limit) if higgs_dir.exists() else []
        if not engagements:
            log.warning("no Higgs data at %s: only the multi-network demo is loaded", higgs_dir)
        self.progress.total = self.progress.sent + sum(
            1 for _ in batches_by_author(engagements, PER_DELIVERY)
        )
        deliveries = self.deliveries(engagements)
        self.progress.phase = f"replaying {len(engagements):,} Higgs engagements, most engaged authors first"
        done = self.replayer.replay(deliveries, until=time.monotonic() + FIRST_PHASE_S)
        self.progress.phase = "processing the queue"
        self.drain()
        self.progress.phase = "scoring pass"
        self.score()
        self.progress.ready = True
        if not done:
            self.progress.phase = "background: replaying the rest of the Higgs engagements"
            self.replayer.replay(deliveries)
            self.drain(timeout_s=3600)
            self.progress.phase = "background: scoring pass over everything"
            self.score()
        self.progress.phase = "done"

    def summary(self) -> str:
        return ", ".join(
            f"{k}={v}" for k, v in self.last_pass.items() if k in ("profiles", "engagements", "iterations")
        )
