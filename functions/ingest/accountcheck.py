"""Which account metadata ingest accepts: creation times and follower counts as networks report them.

An account's creation time and follower count feed the model (``core.integrity``: a reported creation
time can make an account established; followers set its teleport and its band), so neither is
trusted blindly. Like ``timecheck`` for event times, a value out of range is dropped alone, with its
reason, and the activity that carried it is kept:

* ``created_future``: created more than ``MAX_CLOCK_SKEW_S`` after now;
* ``created_before_network``: created before the network existed (``NETWORK_BIRTH``);
* ``followers_out_of_range``: a negative count, or more than ``MAX_FOLLOWERS``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from functions.ingest.networks.base import AccountRef, Activity
from functions.ingest.timecheck import MAX_CLOCK_SKEW_S

# When each network opened its first accounts (unix seconds, UTC midnight of the day, a little early
# where the date is uncertain). An account reported as created before is a bad value.
NETWORK_BIRTH: dict[str, int] = {
    "linkedin": 1_052_092_800,  # 2003-05-05
    "facebook": 1_075_852_800,  # 2004-02-04
    "youtube": 1_108_339_200,  # 2005-02-14
    "twitter": 1_142_899_200,  # 2006-03-21
    "pinterest": 1_259_625_600,  # 2009-12-01 (closed beta)
    "instagram": 1_286_323_200,  # 2010-10-06
    "mastodon": 1_454_284_800,  # 2016-02-01 (first releases, March 2016)
    "bluesky": 1_640_995_200,  # 2022-01-01 (the first did:plc accounts, before the 2023 beta)
    "wikipedia": 979_516_800,  # 2001-01-15
}
DEFAULT_BIRTH = 946_684_800  # 2000-01-01: a network not listed
MAX_FOLLOWERS = 10_000_000_000  # more than there are people


def created_reason(network: str, created: int, now: float) -> str | None:
    """Why a reported creation time is dropped, or None when it is accepted.

    Examples
    --------
    >>> now = 1_764_000_000
    >>> created_reason("twitter", 1_300_000_000, now), created_reason("twitter", now + 3600, now)
    (None, 'created_future')
    >>> created_reason("bluesky", 1_300_000_000, now)
    'created_before_network'
    """
    if created > now + MAX_CLOCK_SKEW_S:
        return "created_future"
    if created < NETWORK_BIRTH.get(network, DEFAULT_BIRTH):
        return "created_before_network"
    return None


def followers_reason(followers: int) -> str | None:
    """Why a reported follower count is dropped, or None.

    Examples
    --------
    >>> followers_reason(0), followers_reason(-1), followers_reason(10**11)
    (None, 'followers_out_of_range', 'followers_out_of_range')
    """
    return "followers_out_of_range" if followers < 0 or followers > MAX_FOLLOWERS else None


@dataclass
class CheckedAccounts:
    """Activities whose account metadata is in range (bad values removed) and what was dropped."""

    activities: list[Activity] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)

    @property
    def reasons(self) -> dict[str, int]:
        return dict(self.dropped)


def clean_ref(network: str, ref: AccountRef, now: float, dropped: Counter[str]) -> AccountRef:
    """``ref`` without the metadata that is out of range (each counted in ``dropped`` by reason).

    Examples
    --------
    >>> from collections import Counter
    >>> seen = Counter()
    >>> ref = clean_ref("twitter", AccountRef(account_id="1", created=5, followers=-3), 1.7e9, seen)
    >>> ref.created, ref.followers, dict(seen)
    (None, None, {'created_before_network': 1, 'followers_out_of_range': 1})
    """
    update: dict[str, None] = {}
    if ref.created is not None:
        why = created_reason(network, ref.created, now)
        if why:
            dropped[why] += 1
            update["created"] = None
    if ref.followers is not None:
        why = followers_reason(ref.followers)
        if why:
            dropped[why] += 1
            update["followers"] = None
    return ref.model_copy(update=update) if update else ref


def check_accounts(activities: Iterable[Activity], now: float) -> CheckedAccounts:
    """Every activity with its actor's and target's out-of-range metadata removed.

    Examples
    --------
    >>> act = Activity(network="mastodon", kind="post", activity_id="p", timestamp=1_764_000_000,
    ...                actor=AccountRef(account_id="a", created=2_000_000_000))
    >>> out = check_accounts([act], 1_764_000_000)
    >>> out.activities[0].actor.created, out.reasons
    (None, {'created_future': 1})
    """
    out = CheckedAccounts()
    for act in activities:
        actor = clean_ref(act.network, act.actor, now, out.dropped)
        target = clean_ref(act.network, act.target, now, out.dropped) if act.target is not None else None
        if actor is act.actor and target is act.target:
            out.activities.append(act)
        else:
            out.activities.append(act.model_copy(update={"actor": actor, "target": target}))
    return out


def created_times(activities: Iterable[Activity]) -> dict[tuple[str, str], int]:
    """``(network, account) -> creation time`` reported by the activities (the earliest, if several).

    Examples
    --------
    >>> a = Activity(network="t", kind="like", activity_id="l", timestamp=0,
    ...              actor=AccountRef(account_id="1", created=20), target=AccountRef(account_id="2"))
    >>> created_times([a, a.model_copy(update={"actor": AccountRef(account_id="1", created=10)})])
    {('t', '1'): 10}
    """
    out: dict[tuple[str, str], int] = {}
    for act in activities:
        for ref in (act.actor, act.target):
            if ref is not None and ref.created is not None:
                key = (act.network, ref.account_id)
                out[key] = min(out.get(key, ref.created), ref.created)
    return out
