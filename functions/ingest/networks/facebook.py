"""Facebook Pages webhooks (``object: "page"``): ``feed`` (posts, comments, reactions, shares) and
``mention`` changes. Scheme in ``functions.ingest.networks.meta``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from functions.ingest.networks.base import AccountRef, Activity, terms_of, validate
from functions.ingest.networks.meta import Change, ChangeParser, Entry, MetaAdapter


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class From(_Model):
    id: str = Field(min_length=1)
    name: str | None = None


class FeedValue(_Model):
    item: str
    verb: str
    from_: From | None = Field(default=None, alias="from")
    post_id: str | None = None
    comment_id: str | None = None
    created_time: int | None = None
    message: str | None = None
    link: str | None = None
    reaction_type: str | None = None


class MentionValue(_Model):
    item: str = "post"
    verb: str = "add"
    post_id: str
    sender_id: str = Field(min_length=1)
    sender_name: str | None = None
    created_time: int | None = None
    message: str | None = None


_FEED_KINDS = {"comment": "comment", "reaction": "like", "like": "like", "share": "share"}


def feed_change(entry: Entry, change: Change) -> list[Activity]:
    """Activities of one ``feed`` change: the page's own posts and others' engagement with it.

    Examples
    --------
    >>> e = Entry(id="1", time=1700000000, changes=[])
    >>> c = Change(field="feed", value={"item": "reaction", "verb": "add", "from": {"id": "2"},
    ...            "post_id": "1_9", "reaction_type": "love", "created_time": 1700000000})
    >>> [(a.kind, a.actor.account_id, a.target.account_id) for a in feed_change(e, c)]
    [('like', '2', '1')]
    """
    value = validate(FeedValue, change.value, "feed change")
    if value.verb != "add" or value.from_ is None:
        return []
    ts = value.created_time or entry.seconds()
    actor = AccountRef(account_id=value.from_.id, name=value.from_.name)
    terms = terms_of(value.message, urls=[value.link] if value.link else None)
    item_id = value.comment_id or value.post_id or f"{entry.id}:{ts}"
    if value.item in ("post", "status", "photo", "video"):
        if value.from_.id == entry.id:
            return [
                Activity(
                    network="facebook",
                    kind="post",
                    activity_id=f"post:{item_id}",
                    timestamp=ts,
                    actor=actor,
                    post_id=value.post_id,
                    terms=terms,
                )
            ]
        kind = "mention"  # someone else posted on the page
    elif value.item in _FEED_KINDS:
        kind = _FEED_KINDS[value.item]
    else:
        return []
    if value.from_.id == entry.id:
        return []
    return [
        Activity(
            network="facebook",
            kind=kind,
            activity_id=f"{kind}:{item_id}:{value.from_.id}",
            timestamp=ts,  # type: ignore[arg-type]
            actor=actor,
            target=AccountRef(account_id=entry.id),
            post_id=value.post_id,
            terms=terms,
        )
    ]


def mention_change(entry: Entry, change: Change) -> list[Activity]:
    """A page mentioned in someone's post or comment (``mention`` field)."""
    value = validate(MentionValue, change.value, "mention change")
    if value.verb != "add" or value.sender_id == entry.id:
        return []
    return [
        Activity(
            network="facebook",
            kind="mention",
            activity_id=f"mention:{value.post_id}:{value.sender_id}",
            timestamp=value.created_time or entry.seconds(),
            actor=AccountRef(account_id=value.sender_id, name=value.sender_name),
            target=AccountRef(account_id=entry.id),
            post_id=value.post_id,
            terms=terms_of(value.message),
        )
    ]


class FacebookAdapter(MetaAdapter):
    network = "facebook"
    parsers: dict[str, ChangeParser] = {"feed": feed_change, "mention": mention_change}  # noqa: RUF012


ADAPTER = FacebookAdapter()
