"""Opt-out checks every writer shares: which accounts carry a marker (``keys.optout_pk``, keyed; and
``keys.legacy_optout_pk`` for markers written before the keyed hash).

An opt-out is final until the person opts back in: the processor, the score updater and the full-pass
snapshot all drop what names a marked account. Markers are never cached (one ``BatchGetItem`` per 100
accounts, each call).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from functions.shared import keys
from functions.shared.keys import AccountKey
from functions.shared.table import batch_get


def opted_out(table: Any, accounts: Iterable[AccountKey]) -> set[AccountKey]:
    """The accounts among ``accounts`` with an opt-out marker (boto3 resource table)."""
    by_marker = {pk: (n, a) for n, a in accounts for pk in keys.optout_pks(n, a)}
    if not by_marker:
        return set()
    found = batch_get(table, [{"PK": pk, "SK": keys.META_SK} for pk in by_marker])
    return {by_marker[item["PK"]] for item in found if item["PK"] in by_marker}
