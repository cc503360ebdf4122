"""The full pass leaves out opted-out accounts, as engagers and as authors, even when their META is
gone (issue 13, item 1): an account without META used to be taken as live."""

from __future__ import annotations

from typing import Any

from functions.rescore.graph_source import items_of, read_snapshot
from functions.shared.records import (
    AccountRecord,
    EdgeRecord,
    OptOutRecord,
    ProfileRecord,
    TopicEvidenceRecord,
)
from functions.shared.table import write_items


def _items() -> list[dict[str, Any]]:
    """``gone`` opted out (erased: no META left, only a marker) engaged with ``b`` and was engaged by
    ``b`` and ``c``; ``c`` also engaged with ``b``. A stray edge of ``gone`` survives in ``b``'s
    partition, and one in its own."""
    out = [
        ProfileRecord(profile_id="pb", name="B", created_at=0).to_item(),
        ProfileRecord(profile_id="pc", name="C", created_at=0).to_item(),
        AccountRecord(network="twitter", account_id="b", profile_id="pb", handle="b").to_item(),
        AccountRecord(network="twitter", account_id="c", profile_id="pc", handle="c").to_item(),
        OptOutRecord.of("twitter", "gone", 1).to_item(),
        TopicEvidenceRecord(network="twitter", account_id="gone", term="higgs", posts=3).to_item(),
    ]
    for engager, author in [("gone", "b"), ("b", "gone"), ("c", "gone"), ("c", "b")]:
        edge = EdgeRecord(
            network="twitter",
            author_id=author,
            engager_id=engager,
            counts={"like": 2},
            decayed={"like": 2.0},
            terms={"higgs": 1},
        )
        out.append(edge.to_item())
    return out


def _check(snap: Any) -> None:
    engagements, accounts = snap.to_core()
    assert "twitter:gone" not in accounts.ids
    pairs = {
        (accounts.ids[s], accounts.ids[d]) for s, d in zip(engagements.src, engagements.dst, strict=True)
    }
    assert pairs == {("twitter:c", "twitter:b")}
    assert all(e.account != "twitter:gone" for e in snap.term_evidence())
    assert [(e.account, e.engagers) for e in snap.term_evidence()] == [("twitter:b", 1)]


def test_snapshot_leaves_out_opted_out_accounts() -> None:
    _check(items_of(_items()))


def test_scan_reads_the_markers(aws_env: Any) -> None:
    write_items(aws_env, _items())
    _check(read_snapshot(aws_env, segments=2))


class _PagedTable:
    """A table of ``items`` whose Scan honours ``Limit`` and ``ExclusiveStartKey`` (one segment)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.limits: list[int | None] = []

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        self.limits.append(kwargs.get("Limit"))
        start = int(kwargs.get("ExclusiveStartKey", {}).get("at", 0))
        end = min(len(self.items), start + int(kwargs.get("Limit") or len(self.items)))
        page: dict[str, Any] = {"Items": self.items[start:end]}
        if end < len(self.items):
            page["LastEvaluatedKey"] = {"at": end}
        return page


def test_snapshot_pages_of_a_set_size_read_everything() -> None:
    """``page_items`` is the Scan's Limit (the local stack's short pages); every item still arrives."""
    items = _items()
    for page_items in (None, 1, 3):
        table = _PagedTable(items)
        _check(read_snapshot(table, segments=1, page_items=page_items))
        expected = 1 if page_items is None else -(-len(items) // page_items)
        assert table.limits == [page_items] * expected


def test_scan_in_short_pages_reads_the_markers(aws_env: Any) -> None:
    write_items(aws_env, _items())
    _check(read_snapshot(aws_env, segments=2, page_items=2))
