"""Batched writes: 25 per request, duplicates collapsed, unprocessed items retried, then an error."""

from __future__ import annotations

from typing import Any

import pytest

from functions.rescore import batch


class FakeClient:
    def __init__(self, refuse_rounds: int) -> None:
        self.refuse_rounds = refuse_rounds
        self.calls: list[int] = []
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((name, requests),) = RequestItems.items()
        self.calls.append(len(requests))
        assert len(requests) <= 25
        if self.refuse_rounds > 0:
            self.refuse_rounds -= 1
            keep, refuse = requests[:-1], requests[-1:]
        else:
            keep, refuse = requests, []
        for r in keep:
            item = r["PutRequest"]["Item"]
            self.stored[(item["PK"]["S"], item["SK"]["S"])] = item
        return {"UnprocessedItems": {name: refuse} if refuse else {}}


def items(n: int) -> list[dict[str, Any]]:
    return [{"PK": f"P{i}", "SK": "S", "v": i} for i in range(n)]


@pytest.mark.parametrize("threads", [1, 4])
def test_everything_is_written_in_batches_of_25(threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch.time, "sleep", lambda s: None)
    client = FakeClient(refuse_rounds=3)
    assert batch.write_parallel(client, "t", items(103), threads=threads) == 103
    assert len(client.stored) == 103
    assert max(client.calls) == 25


def test_duplicate_keys_in_a_batch_keep_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient(refuse_rounds=0)
    rows = [{"PK": "A", "SK": "S", "v": 1}, {"PK": "A", "SK": "S", "v": 2}]
    assert batch.write_parallel(client, "t", rows) == 1
    assert client.stored[("A", "S")]["v"] == {"N": "2"}


def test_persistent_throttling_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch.time, "sleep", lambda s: None)
    client = FakeClient(refuse_rounds=10**6)
    with pytest.raises(batch.UnprocessedItemsError):
        batch.write_parallel(client, "t", items(5), threads=1, attempts=3)
