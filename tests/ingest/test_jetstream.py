"""The Jetstream client against a local WebSocket server that replays ``events/bluesky/jetstream.jsonl``
as Jetstream does (``wantedCollections`` filter, playback from ``cursor=<time_us>``), alone and
through the pull framework (cursor saved, a second run resuming from it, nothing counted twice)."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from functions.ingest import pull
from functions.ingest.jetstream import jetstream_fetcher
from functions.ingest.networks.bluesky import COLLECTIONS
from tests.conftest import LambdaContext
from tests.ingest.conftest import EVENTS, SAMPLE_TIME, Stack

LINES = (EVENTS / "bluesky" / "jetstream.jsonl").read_text().splitlines()


class Replay:
    """A Jetstream stand-in: each connection gets the recorded events at or after its cursor whose
    collection it asked for (identity and account events always), then stays open and quiet."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        self.server: Server = serve(self.handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, socket: ServerConnection) -> None:
        assert socket.request is not None
        query = parse_qs(urlsplit(socket.request.path).query)
        self.queries.append(query)
        cursor = int(query.get("cursor", ["0"])[0])
        wanted = set(query.get("wantedCollections", []))
        for line in LINES:
            event = json.loads(line)
            collection = (event.get("commit") or {}).get("collection")
            if event["time_us"] >= cursor and (collection is None or collection in wanted):
                socket.send(line)
        try:
            socket.recv()  # until the client closes
        except ConnectionClosed:  # the client went away
            return


@pytest.fixture
def jetstream() -> Iterator[Replay]:
    replay = Replay()
    replay.thread.start()
    try:
        yield replay
    finally:
        replay.server.shutdown()
        replay.thread.join(timeout=5)


def test_reads_every_event_with_the_wanted_collections(jetstream: Replay) -> None:
    lines = list(jetstream_fetcher(None, 100, url=jetstream.url, idle_s=0.5))
    assert lines == LINES
    assert jetstream.queries == [{"wantedCollections": list(COLLECTIONS)}]


def test_stops_at_the_limit_and_resumes_from_the_cursor(jetstream: Replay) -> None:
    first = list(jetstream_fetcher(None, 2, url=jetstream.url, idle_s=0.5))
    assert first == LINES[:2]
    cursor = str(json.loads(first[-1])["time_us"])
    again = list(jetstream_fetcher(cursor, 100, url=jetstream.url, idle_s=0.5))
    assert again == LINES[1:]  # playback starts at the cursor: the last event comes once more
    assert jetstream.queries[-1]["cursor"] == [cursor]


def test_pull_through_the_websocket_saves_the_cursor_and_counts_once(
    jetstream: Replay, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pull, "clock", lambda: SAMPLE_TIME + 5.0)
    fetcher: Any = functools.partial(jetstream_fetcher, url=jetstream.url, idle_s=0.5)
    first = pull.handler({"source": "bluesky", "limit": 2}, LambdaContext(), fetcher=fetcher)
    assert first["lines"] == 2
    assert pull.load_cursor(stack.table, "bluesky") == str(json.loads(LINES[1])["time_us"])
    second = pull.handler({"source": "bluesky", "limit": 100}, LambdaContext(), fetcher=fetcher)
    assert jetstream.queries[-1]["cursor"] == [str(json.loads(LINES[1])["time_us"])]
    assert second["lines"] == len(LINES) - 1
    assert pull.load_cursor(stack.table, "bluesky") == str(json.loads(LINES[-1])["time_us"])
    edges = stack.table.scan(
        FilterExpression="begins_with(PK, :p)", ExpressionAttributeValues={":p": "EDGES#bluesky#"}
    )["Items"]
    counts = sorted((k, int(v)) for e in edges for k, v in e.items() if k.startswith("c_"))
    # the same edges as the recorded lines read once (the replayed post is not counted twice)
    assert counts == [("c_follow", 1), ("c_like", 1), ("c_reply", 1), ("c_share", 1)]
