"""Real-shaped, correctly signed webhook deliveries built from plain engagements (demo and tests).

(Over 500 lines: one builder per network's webhook format, short and side by side, and one
:func:`delivery` that picks among them.)

An engagement is ``(engager_id, author_id, kind, unix_ts, text)``: ``engager_id`` did ``kind`` to
``author_id`` (kinds: ``mention``, ``reply``, ``like``, ``share``, ``quote``, ``follow``, ``comment``;
``post`` makes ``engager_id`` post ``text`` itself). ``users`` maps an account id to
``{"screen_name", "name", "followers_count"}`` (missing users get ``user<id>``).

The receiver refuses deliveries whose newest event is older than ``max_delivery_age_s`` (300 s by
default): replay historical data with current timestamps.

Examples
--------
>>> body, headers = twitter_delivery([("2", "1", "mention", 1_700_000_000, "hi")], {}, b"secret")
>>> sorted(headers)
['content-type', 'x-twitter-webhooks-signature']
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

Engagement = tuple[str, str, str, int, str]  # (engager_id, author_id, kind, unix_ts, text)
Delivery = tuple[bytes, dict[str, str]]  # (body, headers)
MAX_BODY_BYTES = 256 * 1024


def _hex(secret: bytes, body: bytes, algorithm: str = "sha256") -> str:
    return hmac.new(secret, body, algorithm).hexdigest()


def _id(*parts: object) -> str:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 4)


def _user(users: Mapping[str, Mapping[str, Any]], uid: str) -> dict[str, Any]:
    info = users.get(uid, {})
    handle = str(info.get("screen_name") or f"user{uid}")
    return {
        "id": int(uid) if uid.isdigit() else 0,
        "id_str": uid,
        "name": str(info.get("name") or handle),
        "screen_name": handle,
        "followers_count": int(info.get("followers_count") or 0),
        "protected": False,
        "verified": False,
    } | ({"created_at": _twitter_time(int(info["created"]))} if info.get("created") else {})


def _twitter_time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def _tweet(
    tid: str, user: dict[str, Any], ts: int, text: str, mentions: list[dict[str, Any]]
) -> dict[str, Any]:
    tags = [{"text": w[1:], "indices": [0, 0]} for w in text.split() if w.startswith("#") and len(w) > 2]
    return {
        "created_at": _twitter_time(ts),
        "id": int(tid),
        "id_str": tid,
        "text": text,
        "source": '<a href="https://renown.dev" rel="nofollow">renown-demo</a>',
        "truncated": False,
        "in_reply_to_status_id": None,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": None,
        "in_reply_to_user_id_str": None,
        "in_reply_to_screen_name": None,
        "user": user,
        "is_quote_status": False,
        "entities": {
            "hashtags": tags,
            "urls": [],
            "user_mentions": [
                {
                    "screen_name": m["screen_name"],
                    "name": m["name"],
                    "id": m["id"],
                    "id_str": m["id_str"],
                    "indices": [0, 0],
                }
                for m in mentions
            ],
            "symbols": [],
        },
        "lang": "en",
        "timestamp_ms": str(ts * 1000),
    }


def twitter_event(
    engagement: Engagement, users: Mapping[str, Mapping[str, Any]], index: int = 0
) -> tuple[str, dict[str, Any]]:
    """One Account Activity event for an engagement: ``(event list name, event object)``."""
    engager, author, kind, ts, text = engagement
    actor, target = _user(users, engager), _user(users, author)
    tid = _id(engager, author, kind, ts, text, index)
    if kind == "like":
        status = _tweet(_id(author, "status", ts, text, index), target, ts - 60, text, [])
        return "favorite_events", {
            "id": hashlib.sha256(f"{engager}:{tid}".encode()).hexdigest()[:32],
            "created_at": _twitter_time(ts),
            "timestamp_ms": ts * 1000,
            "favorited_status": status,
            "user": actor,
        }
    if kind == "follow":
        return "follow_events", {
            "type": "follow",
            "created_timestamp": str(ts * 1000),
            "target": target,
            "source": actor,
        }
    if kind == "post":
        return "tweet_create_events", _tweet(tid, actor, ts, text, [])
    if kind == "mention":
        return "tweet_create_events", _tweet(tid, actor, ts, f"@{target['screen_name']} {text}", [target])
    if kind == "reply":
        tweet = _tweet(tid, actor, ts, f"@{target['screen_name']} {text}", [target])
        tweet |= {
            "in_reply_to_status_id": int(_id(author, "status", ts, index)),
            "in_reply_to_status_id_str": _id(author, "status", ts, index),
            "in_reply_to_user_id": target["id"],
            "in_reply_to_user_id_str": author,
            "in_reply_to_screen_name": target["screen_name"],
        }
        return "tweet_create_events", tweet
    original = _tweet(_id(author, "status", ts, text, index), target, ts - 60, text, [])
    if kind in ("share", "retweet"):
        tweet = _tweet(tid, actor, ts, f"RT @{target['screen_name']}: {text}", [target])
        tweet["retweeted_status"] = original
        return "tweet_create_events", tweet
    if kind == "quote":
        tweet = _tweet(tid, actor, ts, text, [])
        tweet |= {
            "is_quote_status": True,
            "quoted_status_id_str": original["id_str"],
            "quoted_status": original,
        }
        return "tweet_create_events", tweet
    raise ValueError(f"twitter has no engagement kind {kind!r}")


def sign_twitter(body: bytes, secret: bytes) -> dict[str, str]:
    """Headers of a signed Account Activity delivery."""
    signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
    return {"content-type": "application/json", "x-twitter-webhooks-signature": "sha256=" + signature}


def twitter_delivery(
    engagements: list[Engagement],
    users: Mapping[str, Mapping[str, Any]],
    secret: bytes,
    for_user_id: str | None = None,
) -> Delivery:
    """One Account Activity delivery carrying every engagement (tweets, likes, follows batched).

    ``for_user_id`` defaults to the author of the first engagement. Mentions become tweets with
    ``entities.user_mentions``, replies tweets with ``in_reply_to_user_id_str``, shares retweets.

    Examples
    --------
    >>> users = {"1": {"screen_name": "a"}}
    >>> body, h = twitter_delivery([("2", "1", "reply", 1_700_000_000, "yes")], users, b"k")
    >>> json.loads(body)["tweet_create_events"][0]["in_reply_to_user_id_str"]
    '1'
    """
    payload: dict[str, Any] = {"for_user_id": for_user_id or (engagements[0][1] if engagements else "0")}
    for index, engagement in enumerate(engagements):
        name, event = twitter_event(engagement, users, index)
        payload.setdefault(name, []).append(event)
    body = json.dumps(payload, separators=(",", ":")).encode()
    return body, sign_twitter(body, secret)


def twitter_deliveries(
    engagements: Iterable[Engagement],
    users: Mapping[str, Mapping[str, Any]],
    secret: bytes,
    max_bytes: int = MAX_BODY_BYTES,
    max_events: int = 500,
) -> Iterator[Delivery]:
    """Signed deliveries for a stream of engagements, each under ``max_bytes`` and ``max_events``.

    Examples
    --------
    >>> edges = [(str(i), "1", "mention", 1_700_000_000, "x") for i in range(2, 1002)]
    >>> len(list(twitter_deliveries(edges, {}, b"k", max_events=400)))
    3
    """
    chunk: list[tuple[str, dict[str, Any]]] = []
    size = 40
    first_author = "0"
    for index, engagement in enumerate(engagements):
        name, event = twitter_event(engagement, users, index)
        event_size = len(json.dumps(event, separators=(",", ":"))) + 1
        if chunk and (size + event_size > max_bytes or len(chunk) >= max_events):
            yield _twitter_from_events(chunk, first_author, secret)
            chunk, size = [], 40
        if not chunk:
            first_author = engagement[1]
        chunk.append((name, event))
        size += event_size
    if chunk:
        yield _twitter_from_events(chunk, first_author, secret)


def _twitter_from_events(
    events: list[tuple[str, dict[str, Any]]], for_user_id: str, secret: bytes
) -> Delivery:
    payload: dict[str, Any] = {"for_user_id": for_user_id}
    for name, event in events:
        payload.setdefault(name, []).append(event)
    body = json.dumps(payload, separators=(",", ":")).encode()
    return body, sign_twitter(body, secret)


def higgs_engagements(path: str, kind: str, now: int, limit: int = 0) -> Iterator[Engagement]:
    """Engagements of a Higgs edge list (``src dst weight``: src mentioned/replied to dst W times),
    stamped ``now`` (the receiver refuses old deliveries). ``kind`` is ``mention`` or ``reply``.

    Examples
    --------
    >>> next(higgs_engagements("/work/shared/datasets/higgs-twitter/reply_network.edgelist", "reply", 0))
    ('161345', '8614', 'reply', 0, '#higgs')
    """
    count = 0
    with open(path, encoding="ascii") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) < 2 or parts[0] == parts[1]:
                continue
            for _ in range(int(parts[2]) if len(parts) > 2 else 1):
                yield parts[0], parts[1], kind, now, "#higgs"
                count += 1
                if limit and count >= limit:
                    return


# --- Meta (Facebook, Instagram) -------------------------------------------------------------------

_FB_ITEMS = {
    "like": ("reaction", {"reaction_type": "like"}),
    "comment": ("comment", {}),
    "share": ("share", {}),
    "mention": ("post", {}),
}


def facebook_delivery(
    engagements: list[Engagement], users: Mapping[str, Mapping[str, Any]], secret: bytes
) -> Delivery:
    """A Page webhook (``object: "page"``) with one entry per author page and ``feed`` changes.

    Examples
    --------
    >>> body, h = facebook_delivery([("2", "1", "like", 1_700_000_000, "")], {}, b"k")
    >>> json.loads(body)["entry"][0]["changes"][0]["value"]["item"], sorted(h)
    ('reaction', ['content-type', 'x-hub-signature-256'])
    """
    entries: dict[str, dict[str, Any]] = {}
    for index, (engager, author, kind, ts, text) in enumerate(engagements):
        entry = entries.setdefault(author, {"id": author, "time": ts, "changes": []})
        entry["time"] = max(entry["time"], ts)
        post_id = f"{author}_{_id(author, ts, index)}"
        sender = {"id": engager, "name": _user(users, engager)["name"]}
        if kind == "post":
            sender = {"id": author, "name": _user(users, author)["name"]}
        item, extra = _FB_ITEMS.get(kind, ("post", {}))
        value: dict[str, Any] = {
            "from": sender,
            "item": item,
            "post_id": post_id,
            "verb": "add",
            "created_time": ts,
            **extra,
        }
        if item in ("comment", "post"):
            value["message"] = text
        if item == "comment":
            value |= {"comment_id": f"{post_id}_{_id(engager, ts, index)}", "parent_id": post_id}
        entry["changes"].append({"field": "feed", "value": value})
    body = json.dumps({"object": "page", "entry": list(entries.values())}, separators=(",", ":")).encode()
    return body, {"content-type": "application/json", "x-hub-signature-256": "sha256=" + _hex(secret, body)}


def instagram_delivery(
    engagements: list[Engagement], users: Mapping[str, Mapping[str, Any]], secret: bytes
) -> Delivery:
    """An Instagram webhook (``object: "instagram"``): every engagement becomes a ``comments`` change."""
    entries: dict[str, dict[str, Any]] = {}
    for index, (engager, author, _kind, ts, text) in enumerate(engagements):
        entry = entries.setdefault(author, {"id": author, "time": ts, "changes": []})
        entry["time"] = max(entry["time"], ts)
        value = {
            "from": {"id": engager, "username": _user(users, engager)["screen_name"]},
            "media": {"id": _id(author, "media", index), "media_product_type": "FEED"},
            "id": _id(engager, author, ts, index),
            "text": text,
        }
        entry["changes"].append({"field": "comments", "value": value})
    body = json.dumps(
        {"object": "instagram", "entry": list(entries.values())}, separators=(",", ":")
    ).encode()
    return body, {"content-type": "application/json", "x-hub-signature-256": "sha256=" + _hex(secret, body)}


# --- LinkedIn, Mastodon, YouTube -----------------------------------------------------------------

_LI_ACTIONS = {
    "like": "LIKE",
    "comment": "COMMENT",
    "reply": "COMMENT",
    "share": "SHARE",
    "mention": "SHARE_MENTION",
}


def linkedin_delivery(
    engagements: list[Engagement], users: Mapping[str, Mapping[str, Any]], secret: bytes
) -> Delivery:
    """An ``ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS`` delivery signed in ``X-LI-Signature``."""
    notes = []
    for index, (engager, author, kind, ts, text) in enumerate(engagements):
        note: dict[str, Any] = {
            "notificationId": int(_id(engager, author, kind, ts, index)) % 10**12,
            "organizationalEntity": f"urn:li:organization:{author}",
            "action": _LI_ACTIONS.get(kind, "LIKE"),
            "actor": f"urn:li:person:{engager}",
            "sourcePost": f"urn:li:share:{_id(author, ts, index)}",
            "lastModifiedAt": ts * 1000,
        }
        if note["action"] == "COMMENT":
            note["decoratedGeneratedActivity"] = {"comment": {"owner": note["actor"], "text": text}}
        notes.append(note)
    body = json.dumps({"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": notes}).encode()
    return body, {"content-type": "application/json", "x-li-signature": _hex(secret, b"hmacsha256=" + body)}


def mastodon_account(uid: str, users: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    user = _user(users, uid)
    return {
        "id": _id("acct", uid),
        "username": user["screen_name"],
        "acct": user["screen_name"],
        "display_name": user["name"],
        "followers_count": user["followers_count"],
        "url": f"https://mastodon.example/@{user['screen_name']}",
    } | (
        {
            "created_at": datetime.fromtimestamp(int(users[uid]["created"]), UTC).strftime(
                "%Y-%m-%dT00:00:00.000Z"
            )
        }
        if users.get(uid, {}).get("created")
        else {}
    )


def mastodon_delivery(
    engagements: list[Engagement], users: Mapping[str, Mapping[str, Any]], secret: bytes
) -> Delivery:
    """One ``status.created`` event (Mastodon sends one status per request): pass one engagement."""
    if len(engagements) != 1:
        raise ValueError("Mastodon webhooks carry exactly one status: pass one engagement")
    engager, author, kind, ts, text = engagements[0]
    created = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    actor, target = mastodon_account(engager, users), mastodon_account(author, users)
    status: dict[str, Any] = {
        "id": _id("status", engager, author, ts, text),
        "created_at": created,
        "account": actor,
        "content": f"<p>{text}</p>",
        "visibility": "public",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": None,
        "mentions": [],
        "tags": [{"name": w[1:]} for w in text.split() if w.startswith("#")],
        "card": None,
        "url": f"https://mastodon.example/@{actor['acct']}/1",
    }
    mention = {
        "id": target["id"],
        "username": target["username"],
        "acct": target["acct"],
        "url": target["url"],
    }
    if kind in ("mention", "reply"):
        status["mentions"] = [mention]
        status["content"] = f"<p>@{target['acct']} {text}</p>"
    if kind == "reply":
        status |= {"in_reply_to_id": _id("status", author, ts), "in_reply_to_account_id": target["id"]}
    if kind in ("share", "retweet"):
        original = dict(status, id=_id("status", author, ts, text, "orig"), account=target, mentions=[])
        status |= {"reblog": original, "content": ""}
    event = {"event": "status.created", "created_at": created, "object": status}
    body = json.dumps(event).encode()
    return body, {"content-type": "application/json", "x-hub-signature": "sha256=" + _hex(secret, body)}


def youtube_delivery(
    engagements: list[Engagement], users: Mapping[str, Mapping[str, Any]], secret: bytes
) -> Delivery:
    """An Atom feed of uploads: each engagement's ``engager_id`` channel publishes a video titled ``text``."""
    entries = []
    for index, (channel, _author, _kind, ts, title) in enumerate(engagements):
        when = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        video = base64.urlsafe_b64encode(hashlib.sha256(f"{channel}:{ts}:{index}".encode()).digest())[
            :11
        ].decode()
        name = _user(users, channel)["name"]
        safe = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        entries.append(
            f"<entry><id>yt:video:{video}</id><yt:videoId>{video}</yt:videoId><yt:channelId>{channel}</yt:channelId>"
            f'<title>{safe}</title><link rel="alternate" href="https://www.youtube.com/watch?v={video}"/>'
            f"<author><name>{name}</name><uri>https://www.youtube.com/channel/{channel}</uri></author>"
            f"<published>{when}</published><updated>{when}</updated></entry>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" '
        'xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="https://pubsubhubbub.appspot.com"/>'
        "<title>YouTube video feed</title>" + "".join(entries) + "</feed>"
    ).encode()
    return body, {
        "content-type": "application/atom+xml",
        "x-hub-signature": "sha1=" + _hex(secret, body, "sha1"),
    }


def sign(network: str, body: bytes, secret: bytes) -> dict[str, str]:
    """Signature headers of ``body`` under ``network``'s scheme (for replaying recorded samples).

    Examples
    --------
    >>> sign("mastodon", b"{}", b"k")["x-hub-signature"][:7]
    'sha256='
    """
    if network == "twitter":
        return sign_twitter(body, secret)
    if network in ("facebook", "instagram"):
        return {"content-type": "application/json", "x-hub-signature-256": "sha256=" + _hex(secret, body)}
    if network == "linkedin":
        return {"content-type": "application/json", "x-li-signature": _hex(secret, b"hmacsha256=" + body)}
    if network == "youtube":
        signature = "sha1=" + _hex(secret, body, "sha1")
        return {"content-type": "application/atom+xml", "x-hub-signature": signature}
    if network == "mastodon":
        return {"content-type": "application/json", "x-hub-signature": "sha256=" + _hex(secret, body)}
    raise ValueError(f"{network} has no webhook signature scheme")


BUILDERS = {
    "twitter": twitter_delivery,
    "facebook": facebook_delivery,
    "instagram": instagram_delivery,
    "linkedin": linkedin_delivery,
    "mastodon": mastodon_delivery,
    "youtube": youtube_delivery,
}


def delivery(
    network: str, engagements: list[Engagement], users: Mapping[str, Mapping[str, Any]], secret: bytes
) -> Delivery:
    """A signed delivery of ``network`` (see the per-network builders).

    Examples
    --------
    >>> body, headers = delivery("mastodon", [("2", "1", "mention", 1_700_000_000, "hi")], {}, b"k")
    >>> json.loads(body)["event"]
    'status.created'
    """
    return BUILDERS[network](engagements, users, secret)


DEMO_USERS: dict[str, dict[str, Any]] = {
    # "created": when the account was created (unix seconds), sent as X's user.created_at and Mastodon's
    # account.created_at
    "100": {
        "screen_name": "peterhiggs",
        "name": "Peter Higgs",
        "followers_count": 52000,
        "created": 1341360000,
    },
    "200": {
        "screen_name": "fgianotti",
        "name": "Fabiola Gianotti",
        "followers_count": 31000,
        "created": 1357776000,
    },
    "300": {"screen_name": "cern", "name": "CERN", "followers_count": 2_900_000, "created": 1222819200},
    "400": {
        "screen_name": "physicsfan",
        "name": "Physics Fan",
        "followers_count": 120,
        "created": 1622505600,
    },
    "500": {
        "screen_name": "sciencewriter",
        "name": "Science Writer",
        "followers_count": 8700,
        "created": 1425340800,
    },
}


def multi_network_demo(settings: Any, now: int | None = None) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """A small signed demo on every webhook network: ``(network, body, headers)`` to POST to
    ``/webhooks/<network>``. ``settings`` provides ``webhook_secret(network)``; timestamps are ``now``.

    Examples
    --------
    >>> from functions.shared.settings import Settings
    >>> sorted({network for network, _, _ in multi_network_demo(Settings(), 1_700_000_000)})[:3]
    ['facebook', 'instagram', 'linkedin']
    """
    ts = int(now if now is not None else time.time())
    plans: dict[str, list[Engagement]] = {
        "twitter": [
            ("200", "100", "mention", ts, "Congratulations on the #Higgs boson"),
            ("300", "100", "share", ts, "The #Higgs mechanism, 50 years on #physics"),
            ("400", "100", "reply", ts, "What a day for #physics"),
            ("500", "300", "quote", ts, "Inside the #LHC"),
            ("400", "300", "like", ts, "Open day at #CERN"),
            ("500", "100", "follow", ts, ""),
        ],
        "facebook": [
            ("400", "300", "comment", ts, "Brilliant work #science"),
            ("500", "300", "like", ts, ""),
            ("200", "300", "share", ts, ""),
        ],
        "instagram": [
            ("400", "300", "comment", ts, "So cool #higgs"),
            ("500", "300", "comment", ts, "#lhc wow"),
        ],
        "linkedin": [
            ("200", "300", "like", ts, ""),
            ("500", "300", "comment", ts, "Great news for #physics"),
        ],
        "youtube": [("300", "", "post", ts, "The Higgs boson explained #physics")],
        "mastodon": [
            ("400", "100", "reply", ts, "Congratulations #physics"),
            ("500", "100", "share", ts, "#higgs"),
        ],
    }
    for network, engagements in plans.items():
        secret = settings.webhook_secret(network)
        if network == "mastodon":
            for engagement in engagements:
                body, headers = mastodon_delivery([engagement], DEMO_USERS, secret)
                yield network, body, headers
        else:
            body, headers = BUILDERS[network](engagements, DEMO_USERS, secret)
            yield network, body, headers
