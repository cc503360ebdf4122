"""Plain data containers of the scoring core (numpy arrays only, no numba).

An :class:`Engagements` table holds one row per engagement (or per aggregated ``(pair, type)``),
engager ``src`` -> author ``dst``: an engagement is evidence of the author's influence. An
:class:`Accounts` table describes the accounts (one per network handle) and links them into profiles
(one per person).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.errors import InvalidEngagementsError

__all__ = [
    "ENGAGEMENT_TYPES",
    "NETWORKS",
    "Accounts",
    "Engagements",
    "engagement_type_code",
    "network_code",
]

#: Engagement type names; the code of a type is its position (``uint8``).
ENGAGEMENT_TYPES: tuple[str, ...] = (
    "like",
    "share",
    "mention",
    "reply",
    "endorsement",
    "quote",
    "follow",
    "view",
)
#: Network names; the code of a network is its position (``uint8``).
NETWORKS: tuple[str, ...] = (
    "twitter",
    "facebook",
    "instagram",
    "linkedin",
    "youtube",
    "mastodon",
    "wikipedia",
    "bluesky",
    "pinterest",
)

_TYPE_ALIASES = {
    "retweet": "share",
    "repost": "share",
    "comment": "reply",
    "plusk": "endorsement",
    "+k": "endorsement",
}


def engagement_type_code(name: str) -> int:
    """Code of an engagement type given its name (or an alias such as ``retweet``, ``comment``).

    Examples
    --------
    >>> engagement_type_code("reply"), engagement_type_code("retweet")
    (3, 1)
    """
    key = name.strip().lower()
    key = _TYPE_ALIASES.get(key, key)
    try:
        return ENGAGEMENT_TYPES.index(key)
    except ValueError:
        raise InvalidEngagementsError(
            f"unknown engagement type {name!r}; expected one of {', '.join(ENGAGEMENT_TYPES)}"
        ) from None


def network_code(name: str) -> int:
    """Code of a network given its name.

    Examples
    --------
    >>> network_code("mastodon")
    5
    """
    key = name.strip().lower()
    try:
        return NETWORKS.index(key)
    except ValueError:
        raise InvalidEngagementsError(
            f"unknown network {name!r}; expected one of {', '.join(NETWORKS)}"
        ) from None


@dataclass(frozen=True)
class Engagements:
    """Engagement rows: ``src`` engaged with content by ``dst``.

    Attributes
    ----------
    src : ndarray of int64
        Engager account index, ``0 .. n_accounts-1`` (int32 in a compact table, see
        :func:`core.edgelist.read_edges`).
    dst : ndarray of int64
        Author account index (int32 in a compact table).
    weight : ndarray of float64
        Count of engagements (>= 0) that the row stands for (float32 in a compact table).
    etype : ndarray of uint8
        Code into :data:`ENGAGEMENT_TYPES`.
    ts : ndarray of float64
        Unix time in seconds (``nan`` = unknown, treated as fresh).
    """

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    etype: np.ndarray
    ts: np.ndarray

    @classmethod
    def from_arrays(
        cls,
        src: Sequence[int] | np.ndarray,
        dst: Sequence[int] | np.ndarray,
        weight: Sequence[float] | np.ndarray | None = None,
        etype: Sequence[int] | np.ndarray | int | str = "mention",
        ts: Sequence[float] | np.ndarray | float = np.nan,
    ) -> Engagements:
        """Build an :class:`Engagements` table, broadcasting scalars and coercing dtypes.

        Examples
        --------
        >>> e = Engagements.from_arrays([0, 1], [1, 2], etype="share")
        >>> e.weight.tolist(), e.etype.tolist()
        ([1.0, 1.0], [1, 1])
        """
        s = np.ascontiguousarray(src, dtype=np.int64).ravel()
        m = len(s)
        d = np.ascontiguousarray(dst, dtype=np.int64).ravel()
        w = np.ones(m) if weight is None else np.ascontiguousarray(weight, dtype=np.float64).ravel()
        if isinstance(etype, str):
            et = np.full(m, engagement_type_code(etype), dtype=np.uint8)
        else:
            et_arr = np.asarray(etype)
            if et_arr.ndim == 0:
                et = np.full(m, int(et_arr), dtype=np.uint8)
            else:
                et = np.ascontiguousarray(et_arr, dtype=np.uint8).ravel()
        ts_arr = np.asarray(ts, dtype=np.float64)
        t = np.full(m, float(ts_arr)) if ts_arr.ndim == 0 else np.ascontiguousarray(ts_arr).ravel()
        return cls(s, d, w, et, t)

    def __len__(self) -> int:
        """Number of engagement rows."""
        return len(self.src)

    def concat(self, other: Engagements) -> Engagements:
        """Rows of ``self`` followed by rows of ``other``."""
        return Engagements(
            np.concatenate([self.src, other.src]),
            np.concatenate([self.dst, other.dst]),
            np.concatenate([self.weight, other.weight]),
            np.concatenate([self.etype, other.etype]),
            np.concatenate([self.ts, other.ts]),
        )

    def take(self, rows: np.ndarray) -> Engagements:
        """A new table with the selected rows (an index or boolean mask)."""
        return Engagements(self.src[rows], self.dst[rows], self.weight[rows], self.etype[rows], self.ts[rows])

    def validate(self, n_accounts: int) -> None:
        """Raise :class:`~core.errors.InvalidEngagementsError` unless the table is well formed."""
        cols = {"src": self.src, "dst": self.dst, "weight": self.weight, "etype": self.etype, "ts": self.ts}
        for name, arr in cols.items():
            if not isinstance(arr, np.ndarray) or arr.ndim != 1:
                raise InvalidEngagementsError(f"engagements.{name} must be a 1-D numpy array")
        m = len(self.src)
        for name, arr in cols.items():
            if len(arr) != m:
                raise InvalidEngagementsError(
                    f"engagements.{name} has {len(arr)} rows but engagements.src has {m}"
                )
        for name in ("src", "dst"):  # int32 indices: a compact table (fewer than 2**31 accounts)
            if cols[name].dtype not in (np.int64, np.int32):
                raise InvalidEngagementsError(
                    f"engagements.{name} must have dtype int64 (or int32), got {cols[name].dtype}"
                )
        if self.weight.dtype not in (np.float64, np.float32):
            raise InvalidEngagementsError(
                f"engagements.weight must have dtype float64 (or float32), got {self.weight.dtype}"
            )
        expected = {
            "etype": np.uint8,
            "ts": np.float64,
        }
        for name, dt in expected.items():
            if cols[name].dtype != dt:
                raise InvalidEngagementsError(
                    f"engagements.{name} must have dtype {np.dtype(dt).name}, got {cols[name].dtype}"
                )
        if m == 0:
            return
        for name in ("src", "dst"):
            arr = cols[name]
            lo, hi = int(arr.min()), int(arr.max())
            if lo < 0 or hi >= n_accounts:
                bad = int(np.flatnonzero((arr < 0) | (arr >= n_accounts))[0])
                raise InvalidEngagementsError(
                    f"engagements.{name}[{bad}] = {int(arr[bad])} is not an account index "
                    f"in [0, {n_accounts})"
                )
        w = self.weight
        bad_w = ~np.isfinite(w) | (w < 0)
        if bad_w.any():
            i = int(np.flatnonzero(bad_w)[0])
            raise InvalidEngagementsError(f"engagements.weight[{i}] = {w[i]!r} must be finite and >= 0")
        if int(self.etype.max()) >= len(ENGAGEMENT_TYPES):
            i = int(np.flatnonzero(self.etype >= len(ENGAGEMENT_TYPES))[0])
            raise InvalidEngagementsError(
                f"engagements.etype[{i}] = {int(self.etype[i])} is not a code into ENGAGEMENT_TYPES"
            )
        if np.isinf(self.ts).any():
            i = int(np.flatnonzero(np.isinf(self.ts))[0])
            raise InvalidEngagementsError(f"engagements.ts[{i}] is infinite")


@dataclass(frozen=True)
class Accounts:
    """Accounts (one per network handle) linked into profiles (one per person).

    Attributes
    ----------
    ids : list of str
        Account key, e.g. ``"twitter:12345"``.
    network : ndarray of uint8
        Code into :data:`NETWORKS`.
    profile : ndarray of int64
        Profile index of each account; the accounts of one person share it.
    followers, posts : ndarray of float64
        Followers and posts in the scoring window (0 = unknown).
    created : ndarray of float64
        Creation time, unix seconds (``nan`` = unknown).
    profile_ids : list of str
        Profile key per profile index.
    """

    ids: list[str]
    network: np.ndarray
    profile: np.ndarray
    followers: np.ndarray
    posts: np.ndarray
    created: np.ndarray
    profile_ids: list[str] = field(default_factory=list)

    @property
    def n_accounts(self) -> int:
        """Number of accounts."""
        return len(self.ids)

    @property
    def n_profiles(self) -> int:
        """Number of profiles (people)."""
        return len(self.profile_ids)

    @classmethod
    def from_ids(
        cls,
        ids: Iterable[str],
        network: str | Sequence[int] | np.ndarray = "twitter",
        followers: Sequence[float] | np.ndarray | None = None,
        posts: Sequence[float] | np.ndarray | None = None,
        created: Sequence[float] | np.ndarray | None = None,
    ) -> Accounts:
        """One profile per account (profile key = account key).

        A key written ``network:handle`` takes its network from the prefix when ``network`` is a
        name; unknown prefixes fall back to ``network``.

        Examples
        --------
        >>> a = Accounts.from_ids(["twitter:1", "mastodon:a@b", "x"])
        >>> a.network.tolist(), a.profile.tolist()
        ([0, 5, 0], [0, 1, 2])
        """
        id_list = [str(i) for i in ids]
        n = len(id_list)
        if isinstance(network, str):
            default = network_code(network)
            codes = np.full(n, default, dtype=np.uint8)
            for i, key in enumerate(id_list):
                prefix, sep, _ = key.partition(":")
                if sep and prefix.lower() in NETWORKS:
                    codes[i] = NETWORKS.index(prefix.lower())
        else:
            codes = np.ascontiguousarray(network, dtype=np.uint8)

        def col(values: Sequence[float] | np.ndarray | None, fill: float) -> np.ndarray:
            if values is None:
                return np.full(n, fill, dtype=np.float64)
            return np.ascontiguousarray(values, dtype=np.float64).ravel()

        return cls(
            ids=id_list,
            network=codes,
            profile=np.arange(n, dtype=np.int64),
            followers=col(followers, 0.0),
            posts=col(posts, 0.0),
            created=col(created, np.nan),
            profile_ids=list(id_list),
        )

    def with_profiles(self, profile_of: Sequence[str]) -> Accounts:
        """Relink accounts: ``profile_of[i]`` is the profile key of account ``i``.

        Profile indices follow the order of first appearance.

        Examples
        --------
        >>> a = Accounts.from_ids(["twitter:1", "mastodon:1", "twitter:2"])
        >>> a = a.with_profiles(["ann", "ann", "bob"])
        >>> a.profile.tolist(), a.profile_ids
        ([0, 0, 1], ['ann', 'bob'])
        """
        if len(profile_of) != self.n_accounts:
            raise InvalidEngagementsError(
                f"profile_of has {len(profile_of)} entries for {self.n_accounts} accounts"
            )
        index: dict[str, int] = {}
        prof = np.empty(self.n_accounts, dtype=np.int64)
        for i, key in enumerate(profile_of):
            prof[i] = index.setdefault(str(key), len(index))
        return Accounts(
            self.ids, self.network, prof, self.followers, self.posts, self.created, list(index.keys())
        )

    def validate(self) -> None:
        """Raise :class:`~core.errors.InvalidEngagementsError` unless the table is well formed."""
        n = len(self.ids)
        for name in ("network", "profile", "followers", "posts", "created"):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.ndim != 1 or len(arr) != n:
                raise InvalidEngagementsError(f"accounts.{name} must be a 1-D numpy array of {n} entries")
        if n == 0:
            raise InvalidEngagementsError("accounts is empty: at least one account is needed")
        if self.network.dtype != np.uint8 or int(self.network.max()) >= len(NETWORKS):
            raise InvalidEngagementsError("accounts.network must be uint8 codes into NETWORKS")
        if self.profile.dtype != np.int64:
            raise InvalidEngagementsError("accounts.profile must have dtype int64")
        n_prof = len(self.profile_ids)
        if int(self.profile.min()) < 0 or int(self.profile.max()) >= n_prof:
            raise InvalidEngagementsError(f"accounts.profile must index profile_ids (0..{n_prof - 1})")
        if not np.bincount(self.profile, minlength=n_prof).all():  # (indices checked above)
            raise InvalidEngagementsError("every profile must own at least one account")
        for name in ("followers", "posts"):
            arr = getattr(self, name)
            if arr.dtype != np.float64 or not np.isfinite(arr).all() or (arr < 0).any():
                raise InvalidEngagementsError(f"accounts.{name} must be finite float64 >= 0")
        if self.created.dtype != np.float64 or np.isinf(self.created).any():
            raise InvalidEngagementsError("accounts.created must be float64 unix times (nan = unknown)")
