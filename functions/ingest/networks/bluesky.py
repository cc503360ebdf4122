"""Bluesky Jetstream, a pull-only source read by ``functions.ingest.pull``.

Jetstream serves the firehose as JSON over a WebSocket (``wss://jetstream2.us-east.bsky.network/
subscribe?wantedCollections=...&cursor=<time_us>``); the resume cursor is the last event's
``time_us``. Commits of ``app.bsky.feed.post`` become posts (with replies to the parent's author,
quotes of an embedded record's author and mentions from the facets), ``app.bsky.feed.like`` likes,
``app.bsky.feed.repost`` shares and ``app.bsky.graph.follow`` follows. Accounts are DIDs. A profile
record (``app.bsky.actor.profile``) carries no activity, only its account's metadata: its
``createdAt`` (written when the account set up its profile) is the account's creation time and its
``displayName`` the name (``Parsed.accounts``). Follower counts are not in the firehose (the AppView's
``followersCount``); a profile view with ``followersCount`` is read the same way (:func:`profile_ref`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.ingest.networks.base import (
    AccountRef,
    Activity,
    Parsed,
    PayloadError,
    load_json,
    terms_of,
    validate,
)
from functions.ingest.networks.mastodon import iso_seconds

JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
COLLECTIONS = (
    "app.bsky.feed.post",
    "app.bsky.feed.like",
    "app.bsky.feed.repost",
    "app.bsky.graph.follow",
    "app.bsky.actor.profile",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Commit(_Model):
    operation: str
    collection: str
    rkey: str
    record: dict[str, Any] | None = None


class JetstreamEvent(_Model):
    did: str = Field(min_length=1)
    time_us: int
    kind: str
    commit: Commit | None = None


def did_of(uri: object) -> str | None:
    """The repository DID of an ``at://`` URI.

    Examples
    --------
    >>> did_of("at://did:plc:abc/app.bsky.feed.post/3k")
    'did:plc:abc'
    """
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    return uri[5:].split("/", 1)[0] or None


def profile_ref(did: str, profile: dict[str, Any]) -> AccountRef:
    """The account metadata of a profile record or an AppView profile view (``createdAt``,
    ``displayName``, ``handle``, ``followersCount``; whatever is absent or malformed is left out).

    Examples
    --------
    >>> ref = profile_ref("did:plc:a", {"createdAt": "2023-04-01T10:00:00.000Z", "followersCount": 12})
    >>> ref.created, ref.followers
    (1680343200, 12)
    >>> profile_ref("did:plc:a", {"createdAt": "never", "followersCount": "many"}).created is None
    True
    """
    created = profile.get("createdAt")
    followers = profile.get("followersCount")
    when: int | None = None
    if isinstance(created, str):
        try:
            when = iso_seconds(created)
        except PayloadError:
            when = None
    name, handle = profile.get("displayName"), profile.get("handle")
    return AccountRef(
        account_id=did,
        handle=handle if isinstance(handle, str) and handle else None,
        name=name if isinstance(name, str) and name else None,
        followers=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
        created=when,
    )


def _post(did: str, rkey: str, record: dict[str, Any], ts: int) -> list[Activity]:
    actor = AccountRef(account_id=did)
    post_id = f"at://{did}/app.bsky.feed.post/{rkey}"
    tags: list[str] = []
    links: list[str] = []
    mentions: list[str] = []
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else []:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else []:
            kind = feature.get("$type", "") if isinstance(feature, dict) else ""
            kind = kind if isinstance(kind, str) else ""
            if kind.endswith("#tag") and isinstance(feature.get("tag"), str):
                tags.append(feature["tag"])
            elif kind.endswith("#link") and isinstance(feature.get("uri"), str):
                links.append(feature["uri"])
            elif kind.endswith("#mention") and isinstance(feature.get("did"), str):
                mentions.append(feature["did"])
    text = record.get("text") if isinstance(record.get("text"), str) else None
    terms = terms_of(text, tags or None, links)
    out = [
        Activity(
            network="bluesky",
            kind="post",
            activity_id=f"post:{post_id}",
            timestamp=ts,
            actor=actor,
            post_id=post_id,
            terms=terms,
        )
    ]
    covered = {did}

    def engage(kind: str, target: str | None, target_post: str | None) -> None:
        if target and target not in covered:
            covered.add(target)
            out.append(
                Activity(
                    network="bluesky",
                    kind=kind,
                    activity_id=f"{kind}:{post_id}:{target}",
                    timestamp=ts,  # type: ignore[arg-type]
                    actor=actor,
                    target=AccountRef(account_id=target),
                    post_id=target_post,
                    terms=terms,
                )
            )

    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    if isinstance(parent, dict):
        engage("reply", did_of(parent.get("uri")), parent.get("uri"))
    embed = record.get("embed")
    if isinstance(embed, dict) and str(embed.get("$type", "")).startswith("app.bsky.embed.record"):
        inner = embed.get("record")
        if isinstance(inner, dict) and isinstance(inner.get("record"), dict):  # recordWithMedia
            inner = inner["record"]
        if isinstance(inner, dict):
            engage("quote", did_of(inner.get("uri")), inner.get("uri"))
    for mentioned in mentions:
        engage("mention", mentioned, post_id)
    return out


class BlueskySource:
    """Parses one Jetstream event line into activities and its resume cursor (``time_us``).

    Examples
    --------
    >>> line = ('{"did": "did:plc:a", "time_us": 1725911162329308, "kind": "commit", "commit": '
    ...         '{"operation": "create", "collection": "app.bsky.feed.like", "rkey": "3l", "record": '
    ...         '{"createdAt": "2024-09-09T19:46:02.102Z", "subject": {"uri": "at://did:plc:b/app.bsky.feed.post/1"}}}}')
    >>> [(a.kind, a.target.account_id) for a in BlueskySource().parse_line(line).activities]
    [('like', 'did:plc:b')]
    """

    network = "bluesky"
    webhooks = False

    def parse_line(self, line: str) -> Parsed:
        event = validate(JetstreamEvent, load_json(line.encode()), "Jetstream event")
        cursor = str(event.time_us)
        ts = event.time_us // 1_000_000
        commit = event.commit
        activities: list[Activity] = []
        accounts: list[AccountRef] = []
        if (
            event.kind == "commit"
            and commit is not None
            and commit.collection == "app.bsky.actor.profile"
            and commit.operation in ("create", "update")
            and commit.record
        ):
            accounts.append(profile_ref(event.did, commit.record))
        if event.kind == "commit" and commit is not None and commit.operation == "create" and commit.record:
            record = commit.record
            created = record.get("createdAt")
            if isinstance(created, str) and not accounts:  # a profile's createdAt is the account's
                try:
                    ts = iso_seconds(created)
                except PayloadError:  # a bad client clock must not stop the stream
                    ts = event.time_us // 1_000_000
            subject = record.get("subject")
            actor = AccountRef(account_id=event.did)
            if commit.collection == "app.bsky.feed.post":
                activities = _post(event.did, commit.rkey, record, ts)
            elif commit.collection in ("app.bsky.feed.like", "app.bsky.feed.repost") and isinstance(
                subject, dict
            ):
                target = did_of(subject.get("uri"))
                kind = "like" if commit.collection.endswith("like") else "share"
                if target and target != event.did:
                    activities.append(
                        Activity(
                            network="bluesky",
                            kind=kind,
                            activity_id=f"{kind}:{event.did}:{commit.rkey}",
                            timestamp=ts,
                            actor=actor,
                            target=AccountRef(account_id=target),
                            post_id=subject.get("uri"),
                        )
                    )
            elif (
                commit.collection == "app.bsky.graph.follow"
                and isinstance(subject, str)
                and subject != event.did
            ):
                activities.append(
                    Activity(
                        network="bluesky",
                        kind="follow",
                        activity_id=f"follow:{event.did}:{commit.rkey}",
                        timestamp=ts,
                        actor=actor,
                        target=AccountRef(account_id=subject),
                    )
                )
        return Parsed(
            activities=activities,
            sent_at=ts,
            delivery_id=f"{event.did}:{event.time_us}",
            extra={"cursor": cursor},
            accounts=accounts,
        )


SOURCE = BlueskySource()
