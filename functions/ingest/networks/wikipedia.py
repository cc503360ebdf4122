"""Wikimedia EventStreams (``recentchange``), a pull-only source read by ``functions.ingest.pull``.

An edit of an article is attention paid to its subject: each non-bot edit or page creation in the
main namespace becomes an ``edit`` engagement from the editor (``<wiki>:User``) to the article
(``<wiki>:Title``), which is how Wikipedia counts as a real-world signal. The resume cursor is the
SSE ``Last-Event-ID`` value, rebuilt from the event's ``meta`` (topic, partition, offset).
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from functions.ingest.networks.base import AccountRef, Activity, Parsed, load_json, terms_of, validate

STREAM_URL = "https://stream.wikimedia.org/v2/stream/recentchange"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Meta(_Model):
    id: str
    dt: str | None = None
    domain: str | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


class RecentChange(_Model):
    meta: Meta
    type: str
    namespace: int = 0
    title: str = Field(min_length=1)
    timestamp: int
    user: str = Field(min_length=1)
    bot: bool = False
    wiki: str = Field(min_length=1)
    comment: str | None = None
    id: int | None = None


class WikipediaSource:
    """Parses one recentchange event line into activities and its resume cursor.

    Examples
    --------
    >>> line = ('{"meta": {"id": "u1", "topic": "eqiad.mediawiki.recentchange", "partition": 0, '
    ...         '"offset": 7}, "type": "edit", "namespace": 0, "title": "Peter Higgs", '
    ...         '"timestamp": 1704067200, "user": "Ann", "wiki": "enwiki"}')
    >>> parsed = WikipediaSource().parse_line(line)
    >>> parsed.activities[0].target.account_id, parsed.extra["cursor"]
    ('enwiki:Peter Higgs', '[{"topic": "eqiad.mediawiki.recentchange", "partition": 0, "offset": 7}]')
    """

    network = "wikipedia"
    webhooks = False

    def parse_line(self, line: str) -> Parsed:
        event = validate(RecentChange, load_json(line.encode()), "recentchange event")
        cursor = json.dumps(
            [{"topic": event.meta.topic, "partition": event.meta.partition, "offset": event.meta.offset}]
        )
        activities: list[Activity] = []
        if event.type in ("edit", "new") and event.namespace == 0 and not event.bot:
            activities.append(
                Activity(
                    network="wikipedia",
                    kind="edit",
                    activity_id=f"edit:{event.meta.id}",
                    timestamp=event.timestamp,
                    actor=AccountRef(account_id=f"{event.wiki}:{event.user}", handle=event.user),
                    target=AccountRef(account_id=f"{event.wiki}:{event.title}", name=event.title),
                    post_id=str(event.id) if event.id is not None else None,
                    terms=terms_of(event.title, keywords=2),
                )
            )
        return Parsed(
            activities=activities,
            sent_at=event.timestamp,
            delivery_id=event.meta.id,
            extra={"cursor": cursor},
        )


SOURCE = WikipediaSource()
