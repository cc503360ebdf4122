"""The Bluesky Jetstream client: event lines from the Jetstream WebSocket, resuming at a cursor.

Jetstream (``wss://jetstream2.us-east.bsky.network/subscribe``) sends one JSON event per message,
each with its ``time_us``; a client resumes with ``cursor=<time_us>`` and filters with
``wantedCollections`` (one parameter per collection). Playback starts *at* the cursor, so the last
event of a run comes again at the start of the next: the store claims every activity once, so it is
not counted twice. A run reads until it has ``limit`` events, until no event came for ``idle_s``
(caught up with the live stream), or until ``timeout_s`` has passed, then closes the socket.

Examples
--------
>>> subscribe_url("ws://127.0.0.1:9/subscribe", "1725911162329308", ("app.bsky.feed.like",))
'ws://127.0.0.1:9/subscribe?wantedCollections=app.bsky.feed.like&cursor=1725911162329308'
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from functions.ingest.networks.bluesky import COLLECTIONS, JETSTREAM_URL

#: Jetstream events are small; a larger message is refused by the client (the connection closes)
MAX_MESSAGE_BYTES = 1 << 20
USER_AGENT = "renown-ingest/0.1"


def subscribe_url(base: str, cursor: str | None, collections: Iterable[str] = COLLECTIONS) -> str:
    """The subscription address: ``wantedCollections`` for each collection, then ``cursor`` if any."""
    query = [("wantedCollections", c) for c in collections]
    if cursor:
        query.append(("cursor", cursor))
    return f"{base}?{urlencode(query)}"


def jetstream_fetcher(
    cursor: str | None,
    limit: int,
    url: str = JETSTREAM_URL,
    timeout_s: float = 20.0,
    idle_s: float = 5.0,
) -> Iterator[str]:
    """Up to ``limit`` event lines of Jetstream from ``cursor`` (a ``time_us``; None: live).

    Parameters
    ----------
    cursor, limit
        Where to resume and how many events to read at most (the pull framework's ``Fetcher``).
    url
        The ``subscribe`` endpoint (tests point it at a local server).
    timeout_s
        Longest the run reads; ``idle_s``: how long a quiet stream is waited for before stopping.

    Examples
    --------
    >>> lines = list(jetstream_fetcher("1763999991000000", 100))  # doctest: +SKIP
    """
    if limit <= 0:
        return
    deadline = time.monotonic() + timeout_s
    with connect(
        subscribe_url(url, cursor),
        open_timeout=10,
        close_timeout=2,
        max_size=MAX_MESSAGE_BYTES,
        user_agent_header=USER_AGENT,
    ) as socket:
        count = 0
        while count < limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                message = socket.recv(timeout=min(idle_s, remaining))
            except TimeoutError:
                return  # caught up: nothing new for idle_s
            except ConnectionClosed:
                return  # the server ended the stream: the next run resumes from the cursor
            yield message.decode("utf-8", "replace") if isinstance(message, bytes) else message
            count += 1
