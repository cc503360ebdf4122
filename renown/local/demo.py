"""Demo data for the local stack, loaded through the real ingest path (signed webhook deliveries).

* The Higgs Twitter networks (``mention_network.edgelist``, ``reply_network.edgelist``): each line
  ``A B W`` is W mentions (or replies) of B by A. The files carry no times or text, so the replay
  spreads the engagements over the seven days before now in file order (the dataset covers seven
  days, 1-7 July 2012) and each tweet carries what is known of it (:func:`tweet_text`): the
  collection's subject as the data set's README describes it (the Higgs boson discovery) and the
  account it mentions or replies to. Nothing is added per account. Ids are the dataset's anonymised
  user ids.
* A small multi-network demo: a handful of people with accounts on several networks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

log = logging.getLogger("renown.demo")
SUBJECT = "Higgs boson discovery"  # what the collection is about, in its README's words
DAY = 86_400


@dataclass(frozen=True)
class HiggsEngagement:
    engager: str
    author: str
    kind: str  # mention | reply
    timestamp: int
    text: str


def tweet_text(mentioned: str) -> str:
    """What is known of a Higgs tweet's text: the collection's subject (the data set holds the tweets
    about the announcement of the Higgs boson discovery, 1-7 July 2012, as its README says) and the
    account the tweet mentions or replies to. Every tweet of the collection is known to be about the
    subject; nothing else about a single tweet or account is, and nothing else is added.

    Examples
    --------
    >>> tweet_text("8614")
    'Higgs boson discovery @8614'
    """
    return f"{SUBJECT} @{mentioned}"


def read_higgs(directory: Path, now: int, limit: int = 0) -> list[HiggsEngagement]:
    """Engagements of the Higgs networks, replies first (they are the smaller, denser network)."""
    out: list[HiggsEngagement] = []
    files = (("reply_network.edgelist", "reply"), ("mention_network.edgelist", "mention"))
    tables = []
    for name, kind in files:
        data = np.loadtxt(directory / name, dtype=np.int64, ndmin=2)
        tables.append((kind, data))
    total = sum(int(d[:, 2].sum()) for _, d in tables)
    span = 7 * DAY
    position = 0
    for kind, data in tables:
        for src, dst, weight in data:
            for _ in range(int(weight)):
                ts = now - span + (position * span) // max(total, 1)
                position += 1
                out.append(HiggsEngagement(str(src), str(dst), kind, int(ts), tweet_text(str(dst))))
                if limit and len(out) >= limit:
                    return out
    return out


@dataclass
class Progress:
    phase: str = "starting"
    sent: int = 0
    total: int = 0
    rejected: int = 0
    ready: bool = False
    started: float = field(default_factory=time.monotonic)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "phase": self.phase,
            "deliveries_sent": self.sent,
            "deliveries_total": self.total,
            "rejected": self.rejected,
            "ready": self.ready,
            "elapsed_s": round(time.monotonic() - self.started, 1),
        }


def batches_by_author(
    engagements: list[HiggsEngagement], per_delivery: int
) -> Iterator[list[HiggsEngagement]]:
    """Account Activity deliveries are per subscribed user: group by the engaged author."""
    by_author: dict[str, list[HiggsEngagement]] = defaultdict(list)
    for engagement in engagements:
        by_author[engagement.author].append(engagement)
    for items in by_author.values():
        for start in range(0, len(items), per_delivery):
            yield items[start : start + per_delivery]


class Replayer:
    """POSTs signed deliveries to the local webhook endpoint, a few at a time."""

    def __init__(self, base_url: str, progress: Progress, workers: int = 4) -> None:
        self.base_url = base_url
        self.progress = progress
        self.workers = workers
        self._local = threading.local()
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session

    def post(self, network: str, body: bytes, headers: dict[str, str]) -> int:
        reply = self._session().post(
            f"{self.base_url}/webhooks/{network}", data=body, headers=headers, timeout=30
        )
        with self._lock:
            self.progress.sent += 1
            if reply.status_code >= 300:
                self.progress.rejected += 1
                log.warning("delivery to %s rejected: %s %s", network, reply.status_code, reply.text[:200])
        return reply.status_code

    def replay(
        self, deliveries: Iterator[tuple[str, bytes, dict[str, str]]], until: float | None = None
    ) -> bool:
        """Send deliveries with ``workers`` threads until the iterator ends or ``time.monotonic()``
        passes ``until``; returns True when everything was sent (the iterator can be resumed)."""
        lock = threading.Lock()
        exhausted = threading.Event()

        def work() -> None:
            while until is None or time.monotonic() < until:
                with lock:
                    item = next(deliveries, None)
                if item is None:
                    exhausted.set()
                    return
                self.post(*item)

        with ThreadPoolExecutor(self.workers) as pool:
            for future in [pool.submit(work) for _ in range(self.workers)]:
                future.result()
        return exhausted.is_set()


def wait_until(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return condition()
