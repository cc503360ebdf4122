"""Instagram webhooks (``object: "instagram"``, Instagram API with Instagram/Facebook Login):
``comments``, ``live_comments`` and ``mentions`` changes. Scheme in ``functions.ingest.networks.meta``.

Instagram's ``mentions`` change only names the media and comment (no actor id): resolving the actor
needs a Graph API call, so such mentions are skipped until that lookup exists. Likes are not
delivered by Instagram webhooks at all.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from functions.ingest.networks.base import AccountRef, Activity, terms_of, validate
from functions.ingest.networks.meta import Change, ChangeParser, Entry, MetaAdapter


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class IgUser(_Model):
    id: str = Field(min_length=1)
    username: str | None = None


class Media(_Model):
    id: str
    media_product_type: str | None = None


class CommentValue(_Model):
    id: str = Field(min_length=1)
    text: str | None = None
    from_: IgUser = Field(alias="from")
    media: Media | None = None
    parent_id: str | None = None


class MentionValue(_Model):
    media_id: str
    comment_id: str | None = None


def comment_change(entry: Entry, change: Change) -> list[Activity]:
    """A comment on the subscribed account's media: a ``comment`` engagement with it.

    Examples
    --------
    >>> e = Entry(id="17841400000", time=1700000000, changes=[])
    >>> c = Change(field="comments", value={"id": "c1", "text": "great #science", "from": {"id": "5"},
    ...            "media": {"id": "m1"}})
    >>> [(a.kind, a.terms) for a in comment_change(e, c)]
    [('comment', ('#science', 'great'))]
    """
    value = validate(CommentValue, change.value, f"{change.field} change")
    if value.from_.id == entry.id:
        return []
    return [
        Activity(
            network="instagram",
            kind="comment",
            activity_id=f"comment:{value.id}",
            timestamp=entry.seconds(),
            actor=AccountRef(account_id=value.from_.id, handle=value.from_.username),
            target=AccountRef(account_id=entry.id),
            post_id=value.media.id if value.media else None,
            terms=terms_of(value.text),
        )
    ]


def mention_change(entry: Entry, change: Change) -> list[Activity]:
    """``mentions`` carry no actor (see the module docstring): validated, then skipped."""
    validate(MentionValue, change.value, "mentions change")
    return []


class InstagramAdapter(MetaAdapter):
    network = "instagram"
    parsers: dict[str, ChangeParser] = {  # noqa: RUF012
        "comments": comment_change,
        "live_comments": comment_change,
        "mentions": mention_change,
    }


ADAPTER = InstagramAdapter()
