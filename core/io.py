"""Text inputs of the scoring core: engagement edge lists and account CSVs.

Edge files hold one engagement per line, ``source target weight [type [unix_time]]``, separated by
blanks; ``type`` is a name from :data:`core.types.ENGAGEMENT_TYPES` (or an alias such as ``retweet``) or
its integer code; blank lines and lines starting with ``#`` are skipped. Account tokens are kept as
the account keys (``twitter:12345``-style keys give the network; bare tokens get ``network``).
Parsing is vectorised: one ``split`` per line and numpy conversions per column; the slow per-line path
runs only to name the first bad line.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.errors import InputFormatError
from core.types import NETWORKS, Accounts, Engagements

__all__ = ["AccountTable", "attach_accounts", "read_accounts_csv", "read_edge_files"]


def read_edge_files(
    paths: Sequence[str | os.PathLike[str]], default_type: str = "mention", network: str = "twitter"
) -> tuple[Engagements, Accounts]:
    r"""Read engagement edge lists into an engagement table and its accounts.

    Parameters
    ----------
    paths : sequence of path
        Text files of ``source target weight [type [unix_time]]`` lines, or Parquet (``.parquet``,
        ``.pq``) / Arrow IPC (``.feather``, ``.arrow``, ``.ipc``) files with the columns ``source``,
        ``target``, ``weight`` and optionally ``type`` (names or codes) and ``ts`` (unix seconds or a
        timestamp; null = unknown).
    default_type : str
        Type of lines without a type column (the Higgs files: ``mention``; use ``reply`` for replies).
    network : str
        Network of bare account tokens.

    Returns
    -------
    engagements : Engagements
    accounts : Accounts
        One account (and one profile) per distinct token; numeric tokens sorted numerically.

    Raises
    ------
    InputFormatError
        With ``.path`` and ``.line`` of the first bad line (columnar files: the row in the message).
        Weights must lie in [0, 1e15], timestamps in [0, now + 1 day]; account tokens must be valid
        UTF-8 of at most 1024 bytes without control characters; NUL bytes are refused; a file without
        engagements is an error.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.txt"
    >>> _ = p.write_text("1 2 1\n3 2 2 share 1700000000\n")
    >>> e, a = read_edge_files([p])
    >>> a.ids, e.dst.tolist(), e.etype.tolist()
    (['1', '2', '3'], [1, 1], [2, 1])
    """
    from core.edgelist import read_edges

    return read_edges(paths, default_type=default_type, network=network)


@dataclass(frozen=True)
class AccountTable:
    """Rows of an accounts CSV (missing numeric columns are ``None``)."""

    ids: list[str]
    followers: np.ndarray | None
    posts: np.ndarray | None
    created: np.ndarray | None
    profile: list[str] | None
    network: list[str] | None


def read_accounts_csv(path: str | os.PathLike[str]) -> AccountTable:
    r"""Read an accounts CSV: header ``account`` plus any of ``followers``, ``posts``, ``created``
    (unix time), ``profile`` (profile key linking accounts of one person) and ``network``.

    Empty numeric cells mean unknown (followers/posts 0, created nan).

    Raises
    ------
    InputFormatError
        Missing ``account`` column, bad numbers (with the line), duplicate accounts.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("account,followers\n1,10\n2,\n")
    >>> read_accounts_csv(p).followers.tolist()
    [10.0, 0.0]
    """
    fname = os.fspath(path)
    try:
        fh = open(fname, newline="", encoding="utf-8")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise InputFormatError(f"cannot read: {exc.strerror or exc}", fname) from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise InputFormatError("empty file (expected a header with 'account')", fname, 1) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputFormatError(f"unreadable CSV: {exc}", fname, 1) from None
        cols = [h.strip().lower() for h in header]
        if "account" not in cols:
            raise InputFormatError("missing column 'account' in the header", fname, 1)
        known = {"account", "followers", "posts", "created", "profile", "network"}
        unknown = [c for c in cols if c not in known]
        if unknown:
            raise InputFormatError(
                f"unknown column(s) {', '.join(unknown)}; known: {sorted(known)}", fname, 1
            )
        pos = {c: i for i, c in enumerate(cols)}
        ids: list[str] = []
        num: dict[str, list[float]] = {c: [] for c in ("followers", "posts", "created") if c in pos}
        text: dict[str, list[str]] = {c: [] for c in ("profile", "network") if c in pos}
        seen: set[str] = set()
        try:
            for lineno, row in enumerate(reader, start=2):
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(cols):
                    raise InputFormatError(f"expected {len(cols)} fields, got {len(row)}", fname, lineno)
                acc = row[pos["account"]].strip()
                if not acc:
                    raise InputFormatError("empty account", fname, lineno)
                if acc in seen:
                    raise InputFormatError(f"duplicate account {acc!r}", fname, lineno)
                seen.add(acc)
                ids.append(acc)
                for c, vals in num.items():
                    cell = row[pos[c]].strip()
                    if not cell:
                        vals.append(math.nan if c == "created" else 0.0)
                        continue
                    try:
                        v = float(cell)
                    except ValueError:
                        raise InputFormatError(f"bad {c} {cell!r} (need a number)", fname, lineno) from None
                    if not math.isfinite(v) or (c != "created" and v < 0):
                        raise InputFormatError(f"bad {c} {cell!r} (need a finite number >= 0)", fname, lineno)
                    vals.append(v)
                for c, tvals in text.items():
                    cell = row[pos[c]].strip()
                    if c == "network" and cell and cell.lower() not in NETWORKS:
                        raise InputFormatError(f"unknown network {cell!r}", fname, lineno)
                    tvals.append(cell)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputFormatError(f"unreadable CSV: {exc}", fname, reader.line_num) from None

    def arr(c: str) -> np.ndarray | None:
        return np.asarray(num[c], dtype=np.float64) if c in num else None

    return AccountTable(
        ids, arr("followers"), arr("posts"), arr("created"), text.get("profile"), text.get("network")
    )


def attach_accounts(accounts: Accounts, table: AccountTable) -> Accounts:
    """Merge an :class:`AccountTable` into accounts read from edge files.

    Accounts listed in the table but absent from the edges are appended; profile keys (if the table
    has a ``profile`` column) link accounts, the others keep one profile each.

    Examples
    --------
    >>> acc = Accounts.from_ids(["1", "2"])
    >>> t = AccountTable(["2", "9"], np.array([5.0, 1.0]), None, None, ["p", "p"], None)
    >>> a = attach_accounts(acc, t)
    >>> a.ids, a.followers.tolist(), a.profile.tolist()
    (['1', '2', '9'], [0.0, 5.0, 1.0], [0, 1, 1])
    """
    index = {k: i for i, k in enumerate(accounts.ids)}
    extra = [k for k in table.ids if k not in index]
    ids = list(accounts.ids) + extra
    n = len(ids)
    for k in extra:
        index[k] = len(index)
    rows = np.fromiter((index[k] for k in table.ids), dtype=np.int64, count=len(table.ids))
    base = Accounts.from_ids(ids)
    network = np.concatenate([accounts.network, base.network[len(accounts.ids) :]])
    if table.network is not None:
        for r, name in zip(rows, table.network, strict=True):
            if name:
                network[r] = NETWORKS.index(name.lower())

    def merged(old: np.ndarray, new: np.ndarray | None, fill: float) -> np.ndarray:
        out = np.concatenate([old, np.full(n - len(old), fill)])
        if new is not None:
            out[rows] = new
        return out

    out = Accounts(
        ids,
        network.astype(np.uint8),
        np.arange(n, dtype=np.int64),
        merged(accounts.followers, table.followers, 0.0),
        merged(accounts.posts, table.posts, 0.0),
        merged(accounts.created, table.created, math.nan),
        list(ids),
    )
    if table.profile is not None:
        keys = list(ids)
        for r, key in zip(rows, table.profile, strict=True):
            if key:
                keys[r] = key
        out = out.with_profiles(keys)
    return out
