"""The integrity rules (``v3``, :mod:`core.integrity`) in the partitioned solve, on numpy arrays.

What each task of the Distributed Map computes for its partition (``functions/rescore/partitioned_solve.py``
and ``functions/rescore/integrity_steps.py`` move the arrays through S3). The influence rank itself
is the same Jacobi pass as for the other versions (:mod:`core.partitioned`); what differs, step by step, is:

* **snapshot** (a global step, over the rows the snapshot already holds): the first-seen time of every
  account (:func:`core.pairs.first_seen`, one float per account, written into its partition) and
  the two scalars of the time evidence (:func:`time_evidence`);
* **build**: pairs within one profile are dropped (a profile's accounts share a partition, so this is
  local); how established each account is and the trust seeds (:func:`build_integrity_rows`); the
  out-weight an engager gives counts its pairs before the mutual discount (sent to the engager's
  partition as for the other versions); each pair's count is also sent to the engager's partition;
* **setup**: the reverse count of every pair, from what the engagers' partitions sent
  (:func:`reverse_counts`), and the mutual discount of the weights; the out-scale from how
  established the engager is;
* **cap**: the contribution at which one engager saturates is a quantile of every pair's flow: an
  exact distributed selection (:mod:`core.selection`) in a few more rounds of the solve's loop;
* **components**: the soft cap, the breadth factor and the per-profile scores, all local to the
  author's partition (:func:`integrity_components`, :func:`integrity_scores`); the points each
  engager profile adds to each author profile, for the influencers and influencees
  (:func:`influence_links`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core import integrity, model
from core.calibration import CalibrationTable, apply_calibration
from core.graph import aggregate_pairs
from core.types import ENGAGEMENT_TYPES, NETWORKS
from core.versions import AlgorithmParams

__all__ = [
    "IntegrityRows",
    "build_integrity_rows",
    "influence_links",
    "integrity_components",
    "integrity_scores",
    "integrity_setup",
    "profile_terms",
    "reverse_counts",
    "time_evidence",
    "timed",
]


def timed(coverage: float, history_days: float, rules: integrity.IntegrityParams) -> bool:
    """Whether first-seen times are evidence (the core's rule, :func:`core.integrity.established_weights`).

    Examples
    --------
    >>> timed(1.0, 120.0, integrity.IntegrityParams()), timed(0.1, 120.0, integrity.IntegrityParams())
    (True, False)
    """
    return integrity._has_history(coverage, history_days, rules)


def time_evidence(ts: np.ndarray) -> tuple[float, float]:
    """The share of engagement rows that carry a time, and the days their times span.

    Examples
    --------
    >>> time_evidence(np.array([0.0, 86400.0 * 10, np.nan, np.nan]))
    (0.5, 10.0)
    """
    m = len(ts)
    coverage = float(np.isfinite(ts).sum()) / m if m else 0.0
    times = ts[np.isfinite(ts)]
    history = float(times.max() - times.min()) / integrity.DAY if len(times) else 0.0
    return coverage, history


@dataclass(frozen=True)
class IntegrityRows:
    """A partition's aggregated in-adjacency under the integrity rules (:func:`build_integrity_rows`).

    Attributes
    ----------
    indptr, indices, halo, amp_frac, pair_nodecay, volume
        As :class:`core.partitioned.PartitionRows`.
    pair_count : ndarray of float64
        Decayed count of each pair (the mutual discount needs the reverse pair's).
    out_partial : ndarray of float64
        Out-weight each halo engager gives to these rows, before the mutual discount.
    established : ndarray of float64
        How established each of the rows' accounts is.
    tele_raw : ndarray of float64
        Unnormalised teleport of the rows' accounts (trust seeds only).
    """

    indptr: np.ndarray
    indices: np.ndarray
    halo: np.ndarray
    amp_frac: np.ndarray
    pair_nodecay: np.ndarray
    volume: np.ndarray
    pair_count: np.ndarray
    out_partial: np.ndarray
    established: np.ndarray
    tele_raw: np.ndarray


def build_integrity_rows(
    g: dict[str, np.ndarray],
    lo: int,
    params: AlgorithmParams,
    now: float,
    coverage: float,
    history_days: float,
) -> IntegrityRows:
    """Aggregate a partition's rows into pairs (pairs within a profile dropped) and its accounts' trust.

    Parameters
    ----------
    g : dict of str to ndarray
        The partition's rows (``src`` global engager, ``dst`` local author, ``weight``, ``etype``,
        ``ts``) and accounts (``followers``, ``posts``, ``created``, ``profile`` local, ``seen``
        first-seen time).
    lo : int
        Global index of the partition's first account.
    params : AlgorithmParams
        An integrity version.
    now : float
    coverage, history_days : float
        :func:`time_evidence` of the whole population.

    Examples
    --------
    >>> from core.versions import get_version
    >>> g = {"src": np.array([2, 1, 0]), "dst": np.array([0, 0, 1]), "weight": np.ones(3),
    ...      "etype": np.zeros(3, np.uint8), "ts": np.full(3, np.nan), "followers": np.zeros(2),
    ...      "posts": np.zeros(2), "created": np.full(2, np.nan), "profile": np.array([0, 0]),
    ...      "seen": np.full(2, np.inf)}
    >>> rows = build_integrity_rows(g, 0, get_version("v3"), 0.0, 0.0, 0.0)
    >>> rows.halo.tolist(), rows.indptr.tolist(), rows.established.tolist()
    ([2], [0, 1, 1], [1.0, 1.0])
    """
    rules = params.integrity
    assert rules is not None
    n_p = len(g["followers"])
    src = g["src"]
    local = (src >= lo) & (src < lo + n_p)
    same = np.zeros(len(src), dtype=bool)
    same[local] = g["profile"][src[local] - lo] == g["profile"][g["dst"][local]]
    keep = ~same
    counts, amp_counts, base = model.decayed_counts(g["weight"], g["etype"], g["ts"], params, now)
    vals = np.stack([counts, amp_counts, base], axis=1)[keep]
    halo, src_local = np.unique(src[keep], return_inverse=True)
    width = max(n_p, len(halo), 1)
    indptr, indices, sums = aggregate_pairs(src_local, g["dst"][keep], vals, width)
    indptr = indptr[: n_p + 1].copy()
    pair_count = sums[:, 0]
    given = model.pair_weights(pair_count, params.pair_exponent)
    out_partial = np.bincount(indices, weights=given.astype(np.float64), minlength=len(halo))
    seen, created = g["seen"], g["created"]
    est = integrity.established_weights(seen, created, now, coverage, rules, history_days)
    seeds = integrity.trust_seeds(seen, created, now, coverage, rules, history_days)
    return IntegrityRows(
        indptr=indptr,
        indices=indices.astype(np.int32),
        halo=halo.astype(np.int64),
        amp_frac=model.amplification_share(sums[:, 1], pair_count),
        pair_nodecay=sums[:, 2],
        volume=model.volume_divisors(g["posts"], params),
        pair_count=pair_count,
        out_partial=out_partial,
        established=est,
        tele_raw=seeds * (np.log1p(g["followers"]) + params.teleport_eps),
    )


def reverse_counts(
    indptr: np.ndarray,
    engager: np.ndarray,
    lo: int,
    given_engager: np.ndarray,
    given_author: np.ndarray,
    given_count: np.ndarray,
    n: int,
) -> np.ndarray:
    """For each pair ``u -> v`` of a partition's rows, the count of ``v -> u`` (0 if none).

    Parameters
    ----------
    indptr : ndarray
        The partition's rows (authors, local).
    engager : ndarray of int64
        Global engager of each pair.
    lo : int
        Global index of the partition's first account.
    given_engager, given_author, given_count : ndarray
        The pairs every partition holds whose engager is one of this partition's accounts: the
        engager (local), the author (global) and the pair's count.
    n : int
        Accounts in the population.

    Examples
    --------
    >>> # rows: 0 <- 5 (global); partition 0 engages: its account 0 -> global 5, count 3
    >>> reverse_counts(np.array([0, 1]), np.array([5]), 0, np.array([0]), np.array([5]), np.array([3.0]), 9)
    array([3.])
    """
    row = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    key = np.asarray(given_engager, np.int64) * n + np.asarray(given_author, np.int64)
    want = row * n + np.asarray(engager, np.int64)  # the reverse pair: this row engaging the engager
    out = np.zeros(len(want))
    if len(key) == 0 or len(want) == 0:
        return out
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    pos = np.minimum(np.searchsorted(sorted_keys, want), len(key) - 1)
    hit = sorted_keys[pos] == want
    out[hit] = np.asarray(given_count, np.float64)[order[pos[hit]]]
    return out


def integrity_setup(
    pair_count: np.ndarray,
    reverse: np.ndarray,
    out_weight: np.ndarray,
    established: np.ndarray,
    tele_raw: np.ndarray,
    tele_sum: float,
    accounts: int,
    params: AlgorithmParams,
) -> dict[str, np.ndarray]:
    """Mutual-discounted weights, out-scale, passing factors and normalised teleport of a partition.

    ``tele_sum`` is the teleport normaliser of the population; when no account is a trust seed (it is
    0) every account starts equal, as in :func:`core.scoring.prepare_integrity_graph`.

    Examples
    --------
    >>> from core.versions import get_version
    >>> s = integrity_setup(np.array([4.0]), np.array([4.0]), np.array([2.0, 0.0]), np.ones(2),
    ...                     np.zeros(2), 0.0, 4, get_version("v3"))
    >>> s["weights"].tolist(), s["mutual"].tolist(), s["teleport"].tolist()
    ([0.0], [True], [0.25, 0.25])
    """
    rules = params.integrity
    assert rules is not None
    weights = integrity.mutual_discounted_weights(
        pair_count, reverse, params.pair_exponent, rules.reciprocity
    )
    scale = model.out_scale(out_weight, established, params.selectivity_k)
    # no trust seed anywhere: every account starts equal
    teleport = tele_raw / tele_sum if tele_sum > 0 else np.full(len(tele_raw), 1.0 / accounts)
    return {
        "weights": weights,
        "mutual": (reverse > 0) & (pair_count > 0),
        "scale": scale,
        "teleport": teleport,
        "passing": established,
    }


def pair_flows(rows: Any, z: np.ndarray, unit: float, damping: float) -> np.ndarray:
    """Raw contribution of each pair at the final iterate: ``damping * w * (scale * x)_u * unit``
    (``z`` is ``scale * x`` of the halo, float64).

    Examples
    --------
    >>> rows = {"indices": np.array([0, 1], np.int32), "weights": np.array([1.0, 2.0], np.float32)}
    >>> pair_flows(rows, np.array([0.5, 0.25]), 2.0, 0.5).tolist()
    [0.5, 0.5]
    """
    eng = np.asarray(rows["indices"], dtype=np.int64)
    return np.asarray(damping * np.asarray(rows["weights"], np.float64) * z[eng] * unit)


def cap_candidates(flow: np.ndarray, engager_established: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flows the cap is a quantile of: established engagers' positive flows; and every positive
    flow (used when no established engager has one, as :func:`core.integrity.cap_level`).
    """
    positive = flow > 0
    return flow[positive & (engager_established >= 0.5)], flow[positive]


def integrity_components(
    rows: Any,
    flow: np.ndarray,
    cap: float,
    teleport: np.ndarray,
    unit: float,
    beta: float,
    params: AlgorithmParams,
) -> dict[str, np.ndarray]:
    """The soft cap and breadth on a partition's pairs: per account the components (reach as the
    teleport share, amplification, network impact), per pair the points, per account the engagers
    and the breadth (the core's :func:`core.integrity.engagement_points`).
    """
    rules = params.integrity
    assert rules is not None
    n_p = len(rows["indptr"]) - 1
    row = np.repeat(np.arange(n_p, dtype=np.int64), np.diff(rows["indptr"]))
    points, amp, impact, neff, factor = integrity.engagement_points(
        row, flow, rows["amp_frac"], rows["volume"], cap, rules.breadth_k
    )
    comp = np.empty((n_p, 3))
    comp[:, 0] = params.reach_weight * unit * beta * teleport
    comp[:, 1] = amp
    comp[:, 2] = impact
    return {
        "comp": comp,
        "pair_points": points,
        "engagers": np.bincount(row, weights=flow > 0, minlength=n_p),
        "effective_engagers": neff,
        "breadth": factor,
    }


def integrity_scores(
    raw: np.ndarray,
    engagers: np.ndarray,
    band: np.ndarray,
    table: CalibrationTable,
    params: AlgorithmParams,
) -> np.ndarray:
    """Scores of profiles (or of profiles' networks) from their engagement raw and distinct
    engagers: the calibrated raw under the ceiling per engager, the band by reach without engagement.

    Examples
    --------
    >>> from core.versions import get_version
    >>> t = CalibrationTable(np.array([0.0, 1.0]), np.array([19.9, 100.0]))
    >>> integrity_scores(np.array([0.0, 1.0]), np.array([0, 40]), np.array([14.0, 14.0]), t,
    ...                  get_version("v3")).round(2).tolist()
    [14.0, 100.0]
    """
    rules = params.integrity
    assert rules is not None
    calibrated = integrity.breadth_ceiling(apply_calibration(raw, table), engagers, rules)
    return np.asarray(np.where(raw > 0, calibrated, band))


def profile_terms(
    profile: np.ndarray,
    network: np.ndarray,
    followers: np.ndarray,
    established: np.ndarray,
    raw_account: np.ndarray,
    engagers: np.ndarray,
    params: AlgorithmParams,
) -> dict[str, np.ndarray]:
    """Per profile of a partition: engagers, the band by reach, whether it is in the calibration
    population; per (profile, network): engagers (the core's rules, ``core.scoring``).
    """
    rules = params.integrity
    assert rules is not None
    n_prof = int(profile.max()) + 1 if len(profile) else 0
    raw_profile = np.bincount(profile, weights=raw_account, minlength=n_prof)
    prof_engagers = np.bincount(profile, weights=engagers, minlength=n_prof)
    prof_est = np.zeros(n_prof)
    np.maximum.at(prof_est, profile, established)
    prof_followers = np.zeros(n_prof)
    np.maximum.at(prof_followers, profile, followers)
    nn = len(NETWORKS)
    key = profile * nn + network.astype(np.int64)
    net_engagers = np.bincount(key, weights=engagers, minlength=n_prof * nn).reshape(n_prof, nn)
    return {
        "engagers_profile": prof_engagers,
        "band": integrity.band_scores(prof_followers, rules),
        "calibrated": (raw_profile > 0) & (prof_est >= 0.5) & (prof_engagers >= rules.min_engagers),
        "net_engagers": net_engagers,
    }


def influence_links(
    indptr: np.ndarray,
    pair_points: np.ndarray,
    author_profile: np.ndarray,
    engager_key: np.ndarray,
    row_author_profile: np.ndarray,
    row_engager_key: np.ndarray,
    row_type: np.ndarray,
) -> dict[str, np.ndarray]:
    """The raw points each engager profile adds to each of a partition's author profiles, with the
    engagement rows between them by type (what :func:`core.explain.influence_all` sums, before the
    author's points per raw).

    Parameters
    ----------
    indptr : ndarray
        The partition's rows (accounts).
    pair_points : ndarray
        Raw points of each pair (after the cap and the breadth factor).
    author_profile : ndarray of int64
        Local profile of each of the partition's accounts.
    engager_key : ndarray of int64
        Global key of each pair's engager profile (any injective numbering of the population's
        profiles).
    row_author_profile, row_engager_key, row_type : ndarray
        The engagement rows between different profiles: the author's local profile, the engager's
        profile key and the type code.

    Returns
    -------
    dict with ``author``, ``engager``, ``points`` (one entry per linked pair of profiles with positive
    points, sorted by author then engager) and ``types`` (counts by type, shape (entries, types)).

    Examples
    --------
    >>> out = influence_links(np.array([0, 2]), np.array([1.0, 2.0]), np.array([0]), np.array([7, 7]),
    ...                       np.array([0, 0]), np.array([7, 7]), np.array([1, 1]))
    >>> out["author"].tolist(), out["engager"].tolist(), out["points"].tolist(), int(out["types"][0, 1])
    ([0], [7], [3.0], 2)
    """
    n_types = len(ENGAGEMENT_TYPES)
    row = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    keep = pair_points > 0
    width = np.int64(max(int(engager_key.max(initial=0)), int(row_engager_key.max(initial=0))) + 1)
    key = author_profile[row][keep] * width + engager_key[keep]
    uniq, inverse = np.unique(key, return_inverse=True)
    points = np.bincount(inverse.ravel(), weights=pair_points[keep], minlength=len(uniq))
    types = np.zeros((len(uniq), n_types), dtype=np.int64)
    if len(uniq) and len(row_type):
        rkey = np.asarray(row_author_profile, np.int64) * width + np.asarray(row_engager_key, np.int64)
        pos = np.minimum(np.searchsorted(uniq, rkey), len(uniq) - 1)
        hit = uniq[pos] == rkey
        np.add.at(types, (pos[hit], np.asarray(row_type, np.int64)[hit]), 1)
    return {
        "author": uniq // width,
        "engager": uniq % width,
        "points": points,
        "types": types,
    }
