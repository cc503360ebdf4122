"""How far the running service has got with the Higgs accounts: a sample of their ids looked up through
the public API (``/v1/identity/twitter/id/{id}`` then ``/v1/profiles/{profile}/score``), polled until
every one has a score from a full pass, with the time of each milestone and the load average.

``python -m renown.local.score_probe --url http://127.0.0.1:8000 --sample 200`` (the same data set and
``RENOWN_DEMO_LIMIT`` as ``renown serve``). The times are counted from ``--since`` (a Unix time, the
start of ``renown serve``) when given, else from the probe's own start.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[2]
DEV_KEY = "renown-dev-key-0000"


def higgs_accounts(directory: Path, limit: int = 0) -> list[str]:
    """Every account id of the Higgs networks the demo imports (``limit``: its first engagements, as
    ``renown serve --demo-limit`` reads them: replies first, then mentions)."""
    ids: set[str] = set()
    taken = 0
    for name in ("reply_network.edgelist", "mention_network.edgelist"):
        data = np.loadtxt(directory / name, dtype=np.int64, ndmin=2)
        if limit:
            counts = np.cumsum(data[:, 2]) + taken
            data = data[: int(np.searchsorted(counts, limit)) + 1]
            taken = int(counts[min(len(counts), len(data)) - 1]) if len(data) else taken
        ids.update(map(str, np.unique(data[:, :2])))
        if limit and taken >= limit:
            break
    return sorted(ids, key=int)


@dataclass
class Lookup:
    """What the API said about one account."""

    account_id: str
    profile_id: str | None = None
    status: int = 0  # of the last /score request (0: not asked yet)
    provisional: bool | None = None


@dataclass
class Probe:
    """Polls ``get`` (path -> ``(status, json)``) for the accounts in ``sample``."""

    get: Callable[[str], tuple[int, Any]]
    sample: list[str]
    lookups: dict[str, Lookup] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lookups = {a: Lookup(a) for a in self.sample}

    def poll(self) -> dict[str, int]:
        """One round over the accounts not yet scored by a full pass; the counts after it."""
        for lookup in self.lookups.values():
            if lookup.status == 200 and lookup.provisional is False:
                continue
            if lookup.profile_id is None:
                status, body = self.get(f"/v1/identity/twitter/id/{lookup.account_id}")
                if status != 200:
                    lookup.status = status
                    continue
                lookup.profile_id = str(body["profile_id"])
            status, body = self.get(f"/v1/profiles/{lookup.profile_id}/score")
            lookup.status = status
            lookup.provisional = bool(body.get("provisional")) if status == 200 else None
        return self.counts()

    def counts(self) -> dict[str, int]:
        found = [x for x in self.lookups.values() if x.status == 200]
        return {
            "sample": len(self.lookups),
            "score_200": len(found),
            "full_pass": sum(1 for x in found if x.provisional is False),
            "provisional": sum(1 for x in found if x.provisional),
        }


def http_getter(url: str, key: str, timeout_s: float = 30.0) -> Callable[[str], tuple[int, Any]]:
    session = requests.Session()
    session.headers["x-api-key"] = key

    def get(path: str) -> tuple[int, Any]:
        try:
            reply = session.get(url.rstrip("/") + path, timeout=timeout_s)
        except requests.RequestException:
            return 0, {}
        try:
            return reply.status_code, reply.json()
        except ValueError:
            return reply.status_code, {}

    return get


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def watch(
    probe: Probe, health: Callable[[], int], since: float, interval_s: float, timeout_s: float, out: Any
) -> dict[str, Any]:
    """Poll until every sampled account has a full-pass score (or ``timeout_s``); print a line per
    change; returns the milestones (seconds since ``since``, with the load average then)."""
    milestones: dict[str, Any] = {}
    last = ""

    def mark(name: str) -> None:
        if name not in milestones:
            milestones[name] = {"after_s": round(time.time() - since, 1), "load": load()}
            print(f"MILESTONE {name}: {milestones[name]['after_s']} s (load {load()})", file=out, flush=True)

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        code = health()
        if code == 200:
            mark("health_200")
            counts = probe.poll()
            if counts["score_200"] == counts["sample"]:
                mark("every_sampled_score_200")
            if counts["full_pass"] == counts["sample"]:
                mark("every_sampled_full_pass")
        else:
            counts = probe.counts()
        line = json.dumps({"health": code} | counts)
        if line != last:
            print(f"[{time.time() - since:7.1f} s, load {load()}] {line}", file=out, flush=True)
            last = line
        if "every_sampled_full_pass" in milestones:
            break
        time.sleep(interval_s)
    milestones["final"] = probe.counts()
    return milestones


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--key", default=os.environ.get("RENOWN_DEV_API_KEY", DEV_KEY))
    datasets = os.environ.get("RENOWN_DATASETS_DIR", str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--datasets", type=Path, default=Path(datasets))
    parser.add_argument("--limit", type=int, default=int(os.environ.get("RENOWN_DEMO_LIMIT", "0")))
    parser.add_argument("--sample", type=int, default=200, help="accounts looked up (0 = every one)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--since", type=float, default=None, help="Unix time the service started")
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args(list(argv) if argv is not None else None)
    accounts = higgs_accounts(args.datasets / "higgs-twitter", args.limit)
    sample = accounts
    if args.sample:
        sample = random.Random(args.seed).sample(accounts, min(args.sample, len(accounts)))
    print(f"{len(accounts):,} Higgs accounts, {len(sample):,} sampled", flush=True)
    get = http_getter(args.url, args.key)
    probe = Probe(get, sample)
    milestones = watch(
        probe, lambda: get("/health")[0], args.since or time.time(), args.interval, args.timeout, sys.stdout
    )
    print(json.dumps(milestones), flush=True)
    return 0 if milestones["final"]["full_pass"] == len(sample) else 1


if __name__ == "__main__":
    raise SystemExit(main())
