"""How many Higgs accounts whose posts drew engagement get a topic: the Higgs backfill object through
``Backfill.run`` (its store a dict) and the scoring pass's topic step (``profile_extras``).

Run: ``PYTHONPATH=. .venv/bin/python -m tests.rescore.measure_higgs_topics [--limit N]``. Not part of
the test run. Prints the accounts that drew engagement, those with a topic, and what the support rule
alone allows (the best term's distinct engagers and posts), then the same counts from the edge lists
with every tweet counted as a post of its writer.
"""

from __future__ import annotations

import argparse
import gzip
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from core.versions import resolve
from functions.ingest.backfill import Backfill, BackfillStats, read_activities
from functions.rescore.graph_source import GraphSnapshot
from functions.rescore.profile_extras import profile_extras
from renown.local.higgs_backfill import higgs_object
from tests.conftest import ROOT
from tests.rescore.test_topics_from_backfill import MemoryTable

HIGGS = ROOT.parent / "shared" / "datasets" / "higgs-twitter"
NOW = 1_765_000_000


def share(part: int, whole: int) -> str:
    return f"{part:,} ({100 * part / max(whole, 1):.1f}%)"


def from_the_edge_lists(directory: Path, min_posts: int, min_engagers: int) -> None:
    engagers: dict[int, set[int]] = defaultdict(set)
    written: Counter[int] = Counter()
    for name in ("reply_network.edgelist", "mention_network.edgelist"):
        for src, dst, weight in np.loadtxt(directory / name, dtype=np.int64, ndmin=2).tolist():
            written[src] += weight
            if src != dst:
                engagers[dst].add(src)
    drew = len(engagers)
    enough = [a for a, e in engagers.items() if len(e) >= min_engagers]
    both = [a for a in enough if written[a] >= min_posts]
    print(f"edge lists: {drew:,} accounts drew engagement; {share(len(enough), drew)} have {min_engagers}")
    print(f"  distinct engagers; {share(len(both), drew)} also wrote {min_posts} tweets (any kind)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="engagements to import (0: all)")
    args = parser.parse_args()
    params = resolve("v1")
    started = time.monotonic()
    body, engagements, accounts = higgs_object(HIGGS, NOW, args.limit)
    activities = read_activities(gzip.decompress(body).splitlines(), BackfillStats())
    job = Backfill(None, "renown", ttl_days=90, job_id="higgs")
    job.bulk = MemoryTable()  # type: ignore[assignment]
    stats = job.run(activities, NOW)
    print(f"backfill: {engagements:,} engagements of {accounts:,} accounts, {stats.items_written:,} items,")
    print(f"  {time.monotonic() - started:.0f} s")
    snapshot = GraphSnapshot()
    for item in job.bulk.items.values():
        snapshot.add(item)
    eng, acc = snapshot.to_core()
    started = time.monotonic()
    extras = profile_extras(snapshot, eng, acc, "v1", float(NOW))
    terms = len({r.term for r in snapshot.terms} | {t for e in snapshot.edges for t in e.terms})
    print(f"topic step: {time.monotonic() - started:.1f} s, {terms:,} distinct terms")
    drew = {acc.ids[i] for i in np.unique(eng.dst).tolist()}
    topics = {
        acc.ids[i] for i in range(len(acc.ids)) if extras[acc.profile_ids[acc.profile[i]]]["topic_support"]
    }
    print(
        f"accounts that drew engagement: {len(drew):,}; with a topic: {share(len(topics & drew), len(drew))}"
    )
    best: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in snapshot.term_evidence():
        b = best[e.account]
        b[0], b[1] = max(b[0], e.posts), max(b[1], e.engagers)
    posts = sum(best[a][0] >= params.topic_min_posts for a in drew)
    engaged = sum(best[a][1] >= params.topic_min_engagers for a in drew)
    both = sum(best[a][0] >= params.topic_min_posts and best[a][1] >= params.topic_min_engagers for a in drew)
    print(f"  best term: {params.topic_min_engagers} distinct engagers {share(engaged, len(drew))},")
    print(f"  {params.topic_min_posts} posts {share(posts, len(drew))}, both {share(both, len(drew))}")
    firsts = Counter(s[0] for p in acc.profile_ids for s in extras[p]["topic_support"][:1])
    print(f"  first topics: {firsts.most_common(5)}")
    from_the_edge_lists(HIGGS, params.topic_min_posts, params.topic_min_engagers)


if __name__ == "__main__":
    main()
