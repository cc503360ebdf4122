"""Style: each person's place on Klout's four axes and the style it names.

Axes, each in [-1, 1], from a profile's own activity in the engagements (the profile's accounts as
engagers) and posts:

* ``listening_participating``: ``(c - l) / (c + l)`` with ``c`` the weight of its conversational
  engagements (reply, mention, quote, endorsement) and ``l`` of its passive ones (like, view, follow);
* ``sharing_creating``: ``(posts - shares) / (posts + shares)`` (shares = its share engagements);
* ``casual_consistent``: ``2 * active_days / window_days - 1`` (days with an outbound engagement);
* ``broad_focused``: ``2 * h - 1`` with ``h`` the normalised Herfindahl concentration of its
  engagement over the authors it engages (1 = one author); 0 when it engages fewer than 2 authors.

No activity on an axis gives 0. The named style is looked up by the signs (> 0 counts as the
second pole; 0 = no evidence = first pole) in :data:`STYLE_NAMES`, 16 names after Klout's style matrix.
"""

from __future__ import annotations

import numpy as np

from core.errors import InvalidParametersError
from core.types import ENGAGEMENT_TYPES, Accounts, Engagements

__all__ = ["AXES", "STYLE_NAMES", "style"]

AXES = ("listening_participating", "sharing_creating", "casual_consistent", "broad_focused")

#: (creating, participating, consistent, focused) -> style name
STYLE_NAMES: dict[tuple[bool, bool, bool, bool], str] = {
    (True, True, True, True): "Thought Leader",
    (True, True, True, False): "Pundit",
    (True, True, False, True): "Specialist",
    (True, True, False, False): "Socializer",
    (True, False, True, True): "Broadcaster",
    (True, False, True, False): "Celebrity",
    (True, False, False, True): "Explorer",
    (True, False, False, False): "Dabbler",
    (False, True, True, True): "Curator",
    (False, True, True, False): "Networker",
    (False, True, False, True): "Activist",
    (False, True, False, False): "Conversationalist",
    (False, False, True, True): "Taste Maker",
    (False, False, True, False): "Syndicator",
    (False, False, False, True): "Feeder",
    (False, False, False, False): "Observer",
}

_CONV = [ENGAGEMENT_TYPES.index(t) for t in ("reply", "mention", "quote", "endorsement")]
_PASSIVE = [ENGAGEMENT_TYPES.index(t) for t in ("like", "view", "follow")]
_SHARE = ENGAGEMENT_TYPES.index("share")


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = a + b
    out = np.zeros(np.shape(s), dtype=np.float64)  # counts may be integers (an empty population)
    np.divide(a - b, s, out=out, where=s > 0)
    return out


def style(
    engagements: Engagements, accounts: Accounts, now: float | None = None, window_days: float = 30.0
) -> list[dict[str, object]]:
    """Style axes and name per profile.

    Parameters
    ----------
    engagements, accounts : Engagements, Accounts
        The population (the profile's accounts as engagers; ``accounts.posts`` for creating).
    now : float or None
        End of the window (default: latest engagement time).
    window_days : float
        Length of the activity window for ``casual_consistent``.

    Returns
    -------
    list of dict
        Per profile: ``{"axes": {axis: value}, "style": name}``.

    Examples
    --------
    >>> acc = Accounts.from_ids(["a", "b", "c"], posts=[0, 50, 0])
    >>> eng = Engagements.from_arrays([0, 0, 0], [1, 2, 1], etype="reply", ts=[0.0, 86400.0, 2 * 86400.0])
    >>> s = style(eng, acc)
    >>> s[0]["axes"]["listening_participating"], s[1]["style"]
    (1.0, 'Dabbler')
    """
    if not isinstance(engagements, Engagements) or not isinstance(accounts, Accounts):
        raise InvalidParametersError("style needs Engagements and Accounts")
    accounts.validate()
    engagements.validate(accounts.n_accounts)
    if not window_days > 0:
        raise InvalidParametersError("window_days must be > 0")
    n_prof = accounts.n_profiles
    prof_of = accounts.profile
    src_prof = prof_of[engagements.src]
    w = engagements.weight
    et = engagements.etype

    def per_profile(mask: np.ndarray) -> np.ndarray:
        return np.bincount(src_prof[mask], weights=w[mask], minlength=n_prof)

    conv = per_profile(np.isin(et, _CONV))
    passive = per_profile(np.isin(et, _PASSIVE))
    shares = per_profile(et == _SHARE)
    posts = np.bincount(prof_of, weights=accounts.posts, minlength=n_prof)
    ax_lp = _ratio(conv, passive)
    ax_sc = _ratio(posts, shares)

    ts = engagements.ts
    finite = np.isfinite(ts)
    if now is None:
        now = float(ts[finite].max()) if finite.any() else 0.0
    in_window = finite & (ts <= now) & (ts > now - window_days * 86400.0)
    day = np.floor((now - ts[in_window]) / 86400.0).astype(np.int64)
    pairs = np.unique(src_prof[in_window] * (int(window_days) + 2) + day)
    active_days = np.bincount(pairs // (int(window_days) + 2), minlength=n_prof)
    ax_cc = np.where(active_days > 0, 2.0 * np.minimum(active_days / window_days, 1.0) - 1.0, 0.0)

    # concentration of outbound engagement over authors
    key = src_prof * accounts.n_accounts + engagements.dst
    uk, inv = np.unique(key, return_inverse=True)
    pair_w = np.bincount(inv.ravel(), weights=w).astype(np.float64)  # int64 when there are no rows
    pair_prof = uk // accounts.n_accounts
    tot = np.bincount(pair_prof, weights=pair_w, minlength=n_prof)
    share = np.divide(pair_w, tot[pair_prof], out=np.zeros_like(pair_w), where=tot[pair_prof] > 0)
    hhi = np.bincount(pair_prof, weights=share**2, minlength=n_prof)
    k = np.bincount(pair_prof, weights=(pair_w > 0).astype(np.float64), minlength=n_prof)
    norm = np.divide(
        hhi - 1.0 / np.maximum(k, 1), 1.0 - 1.0 / np.maximum(k, 1), out=np.zeros(n_prof), where=k >= 2
    )
    ax_bf = np.where(k >= 2, 2.0 * np.clip(norm, 0.0, 1.0) - 1.0, 0.0)

    out: list[dict[str, object]] = []
    for p in range(n_prof):
        axes = {
            "listening_participating": float(ax_lp[p]),
            "sharing_creating": float(ax_sc[p]),
            "casual_consistent": float(ax_cc[p]),
            "broad_focused": float(ax_bf[p]),
        }
        name = STYLE_NAMES[(ax_sc[p] > 0, ax_lp[p] > 0, ax_cc[p] > 0, ax_bf[p] > 0)]
        out.append({"axes": axes, "style": name})
    return out
