"""The score updater's per-account state (``ACCOUNT#<net>#<id> / RANK#<version>``) and population
constants (``ALGO / INCR#<version>``), as the full pass writes them and the updater reads them.

Fields of a rank-state item (raw units, ``U`` accounts, ``beta`` the teleport share of the solve):
``x`` (rank ``U * x``), ``tele`` (own teleport share ``U * beta * t``), ``s0`` (out-weight at ``t0``),
``t0`` (time of the full pass), ``passing`` (the fresh-account damping of what it passes on), ``raw`` and
its components ``reach``, ``amp``, ``impact``. The updater adds ``b_<author>``/``n_<author>`` pair counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from functions.shared import keys
from functions.shared.records import _to_dynamo

BASE_PREFIX, NOW_PREFIX = "b_", "n_"


def rank_state_items(
    ids: Sequence[str],
    version: str,
    now: float,
    *,
    unit: float,
    beta: float,
    ranks: np.ndarray,
    teleport: np.ndarray,
    out_weight: np.ndarray,
    passing: np.ndarray,
    raw_account: np.ndarray,
    components: np.ndarray,
    engagers: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """One ``RANK#<version>`` item per account (``ids`` are ``"<network>:<account id>"``).

    A ``PutItem`` of each replaces the account's state, dropping the pair changes noted since the
    previous pass (the new pass has them in ``s0``).
    """
    items: list[dict[str, Any]] = []
    for i, key in enumerate(ids):
        network, account_id = key.split(":", 1)
        values = {
            "x": unit * float(ranks[i]),
            "tele": unit * beta * float(teleport[i]),
            "s0": float(out_weight[i]),
            "t0": float(now),
            "passing": float(passing[i]),
            "raw": float(raw_account[i]),
            "reach": float(components[i, 0]),
            "amp": float(components[i, 1]),
            "impact": float(components[i, 2]),
        }
        if engagers is not None:  # integrity versions: distinct engagers (the ceiling counts them)
            values["engagers"] = float(engagers[i])
        items.append(
            {"PK": keys.account_pk(network, account_id), "SK": keys.rank_sk(version)} | _to_dynamo(values)
        )
    return items


def population_item(
    version: str,
    now: float,
    tele_unit: float,
    accounts: int,
    beta: float,
    integrity_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``ALGO / INCR#<version>`` item: teleport unit, ``beta``, accounts and time of the full pass
    (and, for an integrity version, its contribution ``cap`` and ``timed``).

    Examples
    --------
    >>> population_item("v1", 10.0, 0.5, 3, 0.2)["SK"]
    'INCR#v1'
    >>> population_item("v3", 10.0, 0.0, 3, 0.2, {"cap": 0.5, "timed": True})["timed"]
    True
    """
    values: dict[str, Any] = {"t0": float(now), "tele_unit": tele_unit, "accounts": accounts, "beta": beta}
    if integrity_state:
        values |= {"cap": float(integrity_state["cap"]), "timed": bool(integrity_state["timed"])}
    return {"PK": keys.ALGO_PK, "SK": keys.incr_sk(version)} | _to_dynamo(values)
