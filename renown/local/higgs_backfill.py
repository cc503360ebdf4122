"""The complete Higgs Twitter networks as one backfill object (normalised activities, gzip JSON lines).

The engagements are those the demo used to replay as webhooks (``demo.read_higgs``: replies and
mentions spread over the seven days before now, each tweet with what is known of it, the collection's
subject and the account it mentions, ``demo.tweet_text``), turned into activities by the X adapter
itself (the same ``parse`` a webhook delivery goes through), so the backfill carries exactly what the
adapter emits: an engagement per mention or reply and the tweet itself, a post of its author. No
posts or texts are made up per account: an account's posts are the tweets it wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from functions.ingest.networks.base import terms_of
from renown.demo_payloads import _id
from renown.local.demo import HiggsEngagement, read_higgs


def engagements_by_author(engagements: list[HiggsEngagement]) -> dict[str, list[HiggsEngagement]]:
    by_author: dict[str, list[HiggsEngagement]] = defaultdict(list)
    for engagement in engagements:
        by_author[engagement.author].append(engagement)
    return by_author


def _ref(uid: str, name: bool = True, followers: bool = True) -> dict[str, Any]:
    ref: dict[str, Any] = {"account_id": uid, "handle": f"user{uid}"}
    if name:
        ref["name"] = f"user{uid}"
    if followers:
        ref["followers"] = 0
    return ref


def activity_lines(engagements: list[HiggsEngagement]) -> Iterator[str]:
    """Normalised activities (JSON, one a line) of the engagements and the authors' posts: what the
    X adapter emits for the tweets ``renown.demo_payloads.twitter_event`` makes of them (the same
    ids, references and terms; a test holds the two together), built without the JSON round trip.

    Examples
    --------
    >>> e = HiggsEngagement("2", "1", "mention", 1_764_000_000, "Higgs boson discovery @1")
    >>> [(json.loads(line)["kind"], json.loads(line)["actor"]["account_id"]) for line in activity_lines([e])]
    [('post', '2'), ('mention', '2')]
    """

    def terms(text: str) -> list[str]:
        tags = [w[1:] for w in text.split() if w.startswith("#") and len(w) > 2]
        return list(terms_of(text, tags, []))

    def line(kind: str, activity_id: str, ts: int, actor: dict[str, Any], **more: Any) -> str:
        row = {
            "network": "twitter",
            "kind": kind,
            "activity_id": activity_id,
            "timestamp": ts,
            "actor": actor,
        }
        return json.dumps(row | more, separators=(",", ":"))

    index = 0
    for author, items in engagements_by_author(engagements).items():
        for e in items:
            tid = _id(e.engager, author, e.kind, e.timestamp, e.text, index)
            text = f"@user{author} {e.text}"
            words = terms(text)
            actor = _ref(e.engager)
            yield line("post", f"post:{tid}", e.timestamp, actor, post_id=tid, terms=words)
            if e.engager != author:
                if e.kind == "reply":
                    replied = _id(author, "status", e.timestamp, index)
                    target = _ref(author, name=False, followers=False)
                else:
                    replied, target = tid, _ref(author, followers=False)
                yield line(
                    e.kind,
                    f"{e.kind}:{tid}:{author}",
                    e.timestamp,
                    actor,
                    target=target,
                    post_id=replied,
                    terms=words,
                )
            index += 1


def higgs_object(directory: Path, now: int, limit: int = 0) -> tuple[bytes, int, int]:
    """``(gzip body, engagements, accounts)`` of the Higgs networks in ``directory``."""
    engagements = read_higgs(directory, now=now, limit=limit)
    accounts = len({e.author for e in engagements} | {e.engager for e in engagements})
    body = "\n".join(activity_lines(engagements)).encode()
    return gzip.compress(body, compresslevel=1), len(engagements), accounts


def object_key(directory: Path, now: int, limit: int) -> str:
    """A key per data set, day and limit (the same object on the same day is the same job)."""
    digest = hashlib.sha256(f"{directory.resolve()}:{now // 86_400}:{limit}".encode()).hexdigest()[:12]
    return f"backfills/higgs-twitter-{digest}.jsonl.gz"
