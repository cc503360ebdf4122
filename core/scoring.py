"""The scoring use case: engagements + accounts -> calibrated 1-100 scores per profile.

See ``docs/algorithm.md`` for the model. In short:

1. every engagement row gets ``weight * type_weight * 2 ** (-age_days / half_life_days)``;
2. rows are summed per (engager, author) pair (self-engagement dropped) and the pair weight is that
   sum ** ``pair_exponent`` (diminishing returns: unique engagers beat repeated ones);
3. an engager ``u`` with total pair weight ``s_u`` passes ``w_uv / (s_u + selectivity_k)`` of its rank to
   ``v`` (selective engagers weigh more; the rest leaks to the teleport);
4. ranks: personalised PageRank (teleport ~ ``log1p(followers) + teleport_eps``) with anti-gaming
   factors for fresh accounts (:mod:`core.rank`);
5. account raw = ``n * (reach_weight * reach + amplification / volume + network_impact)``: the teleport
   share, the
   rank received through amplification-type engagements divided by the posting volume factor, and the
   rank received through the other types;
6. profile raw = sum of its accounts' raw (networks add up); score = calibrated profile raw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from core import integrity, model, pairs
from core.calibration import CalibrationTable, apply_calibration, fit_calibration
from core.errors import InvalidEngagementsError, InvalidParametersError
from core.flow import inflows
from core.graph import DROP_GROUP, DROP_SELF, CSRGraph, group_pairs
from core.rank import influence_rank
from core.types import NETWORKS, Accounts, Engagements
from core.versions import AlgorithmParams, params_digest, resolve

__all__ = ["SUBSCORES", "ScoreResult", "ScoringGraph", "prepare_graph", "score_population"]

#: Names of the sub-scores, in output order; their points add up to the score.
SUBSCORES: tuple[str, ...] = ("reach", "amplification", "network_impact")

DAY = model.DAY


@dataclass(frozen=True)
class ScoringGraph:
    """Everything the solver and the explanations need about one population (internal state).

    Attributes
    ----------
    csr : CSRGraph
        In-adjacency by author: distinct engagers, pair weights (float32) and engager out-weights.
    pair_count : ndarray of float64
        Decayed, type-weighted count per pair (before diminishing returns).
    pair_count_nodecay : ndarray of float64
        The same count without decay (for the "decay lost" explanation).
    amp_frac : ndarray of float64
        Share of each pair's count that comes from amplification types.
    scale : ndarray of float64
        Out-scale per account: ``pass_u / (s_u + selectivity_k)``.
    teleport : ndarray of float64
        Normalised teleport vector.
    fresh : ndarray of bool
        Accounts flagged fresh by the anti-gaming rule.
    volume : ndarray of float64
        Divisor of the amplification of each account (>= 1).
    now : float
        Reference time of the decay.
    unit : float
        Raw-influence unit: ranks are multiplied by the number of non-fresh accounts, so that the mean
        established account has raw about 1 and a farm of fresh accounts does not rescale everyone.
    """

    csr: CSRGraph
    pair_count: np.ndarray
    pair_count_nodecay: np.ndarray
    amp_frac: np.ndarray
    scale: np.ndarray
    teleport: np.ndarray
    fresh: np.ndarray
    volume: np.ndarray
    now: float
    unit: float


@dataclass(frozen=True)
class ScoreResult:
    """Result of :func:`score_population`.

    Attributes
    ----------
    raw_account : ndarray (n_accounts,)
        Raw influence per account: ranks times the number of non-fresh accounts (mean about 1).
    raw_profile : ndarray (n_profiles,)
        Sum of the raw influence of the profile's accounts.
    score : ndarray (n_profiles,)
        Calibrated score in [1, 100].
    subscores : dict of str to ndarray (n_profiles,)
        Points of ``reach``, ``amplification``, ``network_impact``; they add up to ``score``.
    network_scores : ndarray (n_profiles, len(NETWORKS))
        Calibrated score of the profile's accounts on each network, 0 where it has none.
    iterations : int
        Solver passes.
    residual : float
        L1 change of the last pass.
    calibration : CalibrationTable
        Table used (fitted on this population unless one was given).
    version : str
        Algorithm version name.
    params_digest : str
        :func:`core.versions.params_digest` of the parameters.
    timings : dict of str to float
        ``build_s``, ``solve_s``, ``calibrate_s`` in seconds.
    ranks : ndarray (n_accounts,)
        Stationary ranks (sum 1); pass them as ``previous`` to warm-start the next run.
    components : ndarray (n_accounts, 3)
        Raw reach, amplification (volume-adjusted) and network impact per account.
    """

    raw_account: np.ndarray
    raw_profile: np.ndarray
    score: np.ndarray
    subscores: dict[str, np.ndarray]
    network_scores: np.ndarray
    iterations: int
    residual: float
    calibration: CalibrationTable
    version: str
    params_digest: str
    timings: dict[str, float]
    ranks: np.ndarray
    components: np.ndarray
    params: AlgorithmParams = field(repr=False, compare=False, default_factory=AlgorithmParams)
    graph: ScoringGraph | None = field(repr=False, compare=False, default=None)
    integrity: IntegrityDetail | None = field(repr=False, compare=False, default=None)


def prepare_graph(
    engagements: Engagements, accounts: Accounts, params: AlgorithmParams, now: float
) -> ScoringGraph:
    """Build the weighted, normalised engagement graph of a population (inputs already validated).

    The model's steps are those of :mod:`core.model`, computed per pair by :mod:`core.pairs` (the rows
    grouped by :func:`core.graph.group_pairs`, self-engagement left out) with no array per row.
    """
    n = accounts.n_accounts
    rows = group_pairs(engagements.src, engagements.dst, n, DROP_SELF, weight=engagements.weight)
    pc = pairs.pair_counts(
        rows, engagements.src, engagements.weight, engagements.etype, engagements.ts, params, now
    )
    indptr = rows.indptr
    del rows
    w32 = pairs.pair_weights(pc.count, params.pair_exponent)
    out_weight = pairs.out_weights(pc.indices, w32, n)

    cand = model.fresh_candidates(accounts.created, accounts.followers, params, now)
    fresh = pairs.fresh_flags(cand, indptr, pc.indices, w32)
    scale = model.out_scale(out_weight, model.passing_factors(fresh, params), params.selectivity_k)
    teleport = model.teleport_weights(accounts.followers, fresh, params)
    teleport = teleport / teleport.sum()
    vol = model.volume_divisors(accounts.posts, params)
    csr = CSRGraph(n, indptr, pc.indices, w32, out_weight)
    unit = float(max(1, n - int(fresh.sum())))
    return ScoringGraph(csr, pc.count, pc.nodecay, pc.amp_frac, scale, teleport, fresh, vol, float(now), unit)


def account_components(
    graph: ScoringGraph, ranks: np.ndarray, damping: float, reach_weight: float = 1.0
) -> np.ndarray:
    """Raw (reach, amplification, network_impact) per account from converged ranks, shape (n, 3).

    With ``U = graph.unit``: ``reach = reach_weight * U * (1 - total_inflow) * teleport``,
    ``amplification = U * inflow_amp / volume`` and ``network_impact = U * (inflow - inflow_amp)``
    (:func:`core.flow.inflows`, :func:`core.model.account_components`).
    """
    csr = graph.csr
    inflow, inflow_amp = inflows(
        csr.indptr, csr.indices, csr.weights, graph.amp_frac, graph.scale, ranks, float(damping)
    )
    beta = 1.0 - float(inflow.sum())
    return model.account_components(
        inflow, inflow_amp, graph.teleport, graph.volume, graph.unit, beta, reach_weight
    )


def per_network(accounts: Accounts, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-account values summed per (profile, network), shape (n_profiles, len(NETWORKS)), and where
    a profile has an account on the network.
    """
    nn = len(NETWORKS)
    n_prof = accounts.n_profiles
    key = accounts.profile * nn + accounts.network.astype(np.int64)
    sums = np.bincount(key, weights=values, minlength=n_prof * nn).reshape(n_prof, nn)
    present = np.zeros(n_prof * nn, dtype=np.bool_)
    present[key] = True
    return sums, present.reshape(n_prof, nn)


def _check_inputs(engagements: Engagements, accounts: Accounts) -> None:
    if not isinstance(accounts, Accounts):
        raise InvalidEngagementsError("accounts must be a core.types.Accounts")
    if not isinstance(engagements, Engagements):
        raise InvalidEngagementsError("engagements must be a core.types.Engagements")
    accounts.validate()
    engagements.validate(accounts.n_accounts)


def score_population(
    engagements: Engagements,
    accounts: Accounts,
    version: str | AlgorithmParams = "v1",
    now: float | None = None,
    previous: np.ndarray | None = None,
    *,
    calibration: CalibrationTable | None = None,
) -> ScoreResult:
    """Score every profile of a population.

    Parameters
    ----------
    engagements : Engagements
        Engagement rows (engager -> author) over the accounts.
    accounts : Accounts
        Accounts and their profiles.
    version : str or AlgorithmParams
        Algorithm version name (see :func:`core.versions.list_versions`) or a parameter set.
    now : float or None
        Reference unix time of the decay; default the latest finite engagement time (0 if none).
    previous : ndarray or None
        Previous ranks per account (``ScoreResult.ranks``) to warm-start the solver.
    calibration : CalibrationTable or None
        Apply this stored table instead of fitting one on the population.

    Returns
    -------
    ScoreResult

    Raises
    ------
    InvalidEngagementsError, InvalidParametersError, UnknownVersionError

    Examples
    --------
    >>> acc = Accounts.from_ids(["a", "b", "c", "d"])
    >>> eng = Engagements.from_arrays([0, 1, 2, 3], [1, 2, 1, 1], etype="share", ts=0.0)
    >>> res = score_population(eng, acc)
    >>> int(np.argmax(res.score)), res.version
    (1, 'v1')
    """
    params = resolve(version)
    _check_inputs(engagements, accounts)
    if now is None:  # the latest time (NaN: unknown; validated tables hold no infinity)
        latest = float(np.fmax.reduce(engagements.ts)) if len(engagements) else np.nan
        now = 0.0 if np.isnan(latest) else latest
    now = float(now)
    if not np.isfinite(now):
        raise InvalidParametersError(f"now must be a finite unix time, got {now}")
    if calibration is not None and not isinstance(calibration, CalibrationTable):
        raise InvalidParametersError("calibration must be a CalibrationTable")
    n = accounts.n_accounts
    if previous is not None:
        prev = np.asarray(previous, dtype=np.float64)
        if prev.shape != (n,) or not np.isfinite(prev).all() or (prev < 0).any() or prev.sum() <= 0:
            raise InvalidParametersError(f"previous must be {n} finite ranks >= 0 with a positive sum")
        previous = prev

    if params.integrity is not None:
        return _score_with_integrity(engagements, accounts, params, now, previous, calibration)
    t0 = time.perf_counter()
    graph = prepare_graph(engagements, accounts, params, now)
    t1 = time.perf_counter()
    ranks, iterations, residual = influence_rank(
        graph.csr,
        graph.teleport,
        params.damping,
        params.tol,
        params.max_iter,
        x0=previous,
        out_scale=graph.scale,
    )
    t2 = time.perf_counter()
    comp = account_components(graph, ranks, params.damping, params.reach_weight)
    raw_account = comp.sum(axis=1)
    n_prof = accounts.n_profiles
    prof = accounts.profile
    raw_profile = np.bincount(prof, weights=raw_account, minlength=n_prof)
    table = calibration
    if table is None:
        table = fit_calibration(raw_profile, params.target_mean, params.target_p95, params.calibration_knots)
    score = apply_calibration(raw_profile, table)
    share = np.zeros(n_prof)
    np.divide(score, raw_profile, out=share, where=raw_profile > 0)
    subscores = {}
    for k, name in enumerate(SUBSCORES):
        subscores[name] = np.bincount(prof, weights=comp[:, k], minlength=n_prof) * share
    raw_pn, present = per_network(accounts, raw_account)
    network_scores = raw_pn  # calibrated in place, on the present entries only
    network_scores[present] = apply_calibration(raw_pn[present], table)
    network_scores[~present] = 0.0
    t3 = time.perf_counter()
    return ScoreResult(
        raw_account=raw_account,
        raw_profile=raw_profile,
        score=score,
        subscores=subscores,
        network_scores=network_scores,
        iterations=iterations,
        residual=residual,
        calibration=table,
        version=params.name,
        params_digest=params_digest(params),
        timings={"build_s": t1 - t0, "solve_s": t2 - t1, "calibrate_s": t3 - t2},
        ranks=ranks,
        components=comp,
        params=params,
        graph=graph,
    )


@dataclass(frozen=True)
class IntegrityDetail:
    """What the integrity rules (:mod:`core.integrity`, versions from ``v3``) saw and did.

    Attributes
    ----------
    established : ndarray (n_accounts,)
        How established each account is, in [0, 1].
    pair_flow : ndarray (pairs,)
        Raw contribution of each engager-author pair before the cap (CSR order of ``graph.csr``).
    pair_points_raw : ndarray (pairs,)
        The same after the soft cap and the author's breadth factor: what each engager adds to the
        author's engagement raw (amplification divided by the author's volume).
    mutual : ndarray of bool (pairs,)
        Pairs whose weight was lowered because the author engages the engager back.
    effective_engagers, breadth : ndarray (n_accounts,)
        Effective number of engagers and the breadth factor of each account.
    cap : float
        Contribution at which one engager saturates.
    calibrated : ndarray of bool (n_profiles,)
        The calibration population.
    """

    established: np.ndarray
    pair_flow: np.ndarray
    pair_points_raw: np.ndarray
    mutual: np.ndarray
    effective_engagers: np.ndarray
    breadth: np.ndarray
    cap: float
    calibrated: np.ndarray


def prepare_integrity_graph(
    engagements: Engagements, accounts: Accounts, params: AlgorithmParams, now: float
) -> tuple[ScoringGraph, np.ndarray, np.ndarray]:
    """The engagement graph under the integrity rules: same-person pairs dropped, mutual engagement
    cancelled, trust seeded and passed by established accounts only.

    Returns the graph, the established weight per account and the mutual-pair mask.
    """
    rules = params.integrity
    assert rules is not None
    n = accounts.n_accounts
    rows = group_pairs(engagements.src, engagements.dst, n, DROP_GROUP, accounts.profile, engagements.weight)
    pc = pairs.pair_counts(
        rows, engagements.src, engagements.weight, engagements.etype, engagements.ts, params, now
    )
    indptr, indices, pair_count = rows.indptr, pc.indices, pc.count
    del rows
    reverse = pairs.reverse_counts(indptr, indices, pair_count)
    w32, undiscounted = pairs.mutual_weights(pair_count, reverse, params.pair_exponent, rules.reciprocity)
    out_weight = pairs.out_weights(indices, w32, n)
    # an engager's selectivity counts its engagement before the mutual discount: what a mutual
    # exchange no longer carries leaks (it does not flow to the engager's other authors instead)
    given = pairs.out_weights(indices, undiscounted, n)
    del undiscounted
    m = len(engagements.ts)
    coverage = float(np.isfinite(engagements.ts).sum()) / m if m else 0.0
    seen = pairs.first_seen(engagements.src, engagements.dst, engagements.ts, n)
    times = engagements.ts[np.isfinite(engagements.ts)]
    history = float(times.max() - times.min()) / DAY if len(times) else 0.0
    est = integrity.established_weights(seen, accounts.created, now, coverage, rules, history)
    scale = model.out_scale(given, est, params.selectivity_k)
    seeds = integrity.trust_seeds(seen, accounts.created, now, coverage, rules, history)
    teleport = seeds * (np.log1p(accounts.followers) + params.teleport_eps)
    if teleport.sum() <= 0:  # nobody established: every account starts equal
        teleport = np.ones(n)
    teleport = teleport / teleport.sum()
    vol = model.volume_divisors(accounts.posts, params)
    csr = CSRGraph(n, indptr, indices, w32, out_weight)
    unit = float(max(1.0, est.sum()))
    graph = ScoringGraph(
        csr, pair_count, pc.nodecay, pc.amp_frac, scale, teleport, est < 0.5, vol, float(now), unit
    )
    return graph, est, (reverse > 0) & (pair_count > 0)


def _score_with_integrity(
    engagements: Engagements,
    accounts: Accounts,
    params: AlgorithmParams,
    now: float,
    previous: np.ndarray | None,
    calibration: CalibrationTable | None,
) -> ScoreResult:
    rules = params.integrity
    assert rules is not None
    t0 = time.perf_counter()
    graph, est, mutual = prepare_integrity_graph(engagements, accounts, params, now)
    t1 = time.perf_counter()
    csr = graph.csr
    ranks, iterations, residual = influence_rank(
        csr, graph.teleport, params.damping, params.tol, params.max_iter, x0=previous, out_scale=graph.scale
    )
    t2 = time.perf_counter()
    n = csr.n
    eng = csr.indices
    flow = params.damping * csr.weights.astype(np.float64) * graph.scale[eng] * ranks[eng] * graph.unit
    cap = integrity.cap_level(flow, est[eng] >= 0.5, rules.cap_quantile)
    # core.integrity.engagement_points by rows (the same values), with each author's engager count
    points_raw, amp_raw, impact_raw, neff, factor, engagers_acc = pairs.engagement_points(
        csr.indptr, flow, graph.amp_frac, graph.volume, cap, rules.breadth_k
    )
    beta = 1.0 - float(flow.sum()) / graph.unit
    comp = np.empty((n, 3))
    comp[:, 0] = params.reach_weight * graph.unit * beta * graph.teleport
    comp[:, 1] = amp_raw
    comp[:, 2] = impact_raw
    raw_account = amp_raw + impact_raw
    n_prof = accounts.n_profiles
    prof = accounts.profile
    raw_profile = np.bincount(prof, weights=raw_account, minlength=n_prof)
    engagers = np.bincount(prof, weights=engagers_acc, minlength=n_prof)
    prof_est = np.zeros(n_prof)
    np.maximum.at(prof_est, prof, est)
    calibrated = (raw_profile > 0) & (prof_est >= 0.5) & (engagers >= rules.min_engagers)
    table = calibration
    if table is None:
        table = _fit_integrity_table(raw_profile[calibrated], params)
    followers = np.zeros(n_prof)
    np.maximum.at(followers, prof, accounts.followers)
    band = integrity.band_scores(followers, rules)
    engaged = raw_profile > 0
    score = np.where(
        engaged, integrity.breadth_ceiling(apply_calibration(raw_profile, table), engagers, rules), band
    )
    share = np.zeros(n_prof)
    np.divide(score, raw_profile, out=share, where=engaged)
    subscores = {
        "reach": np.where(engaged, 0.0, band),
        "amplification": np.bincount(prof, weights=amp_raw, minlength=n_prof) * share,
        "network_impact": np.bincount(prof, weights=impact_raw, minlength=n_prof) * share,
    }
    raw_pn, present = per_network(accounts, raw_account)
    net_engagers, _ = per_network(accounts, engagers_acc)
    network_scores = np.zeros(raw_pn.shape)  # the rules on the networks a profile has (elementwise)
    net_raw = raw_pn[present]
    net_calibrated = integrity.breadth_ceiling(
        apply_calibration(net_raw, table), net_engagers[present], rules
    )
    network_scores[present] = np.where(
        net_raw > 0, net_calibrated, np.broadcast_to(band[:, None], raw_pn.shape)[present]
    )
    t3 = time.perf_counter()
    detail = IntegrityDetail(est, flow, points_raw, mutual, neff, factor, cap, calibrated)
    return ScoreResult(
        raw_account=raw_account,
        raw_profile=raw_profile,
        score=score,
        subscores=subscores,
        network_scores=network_scores,
        iterations=iterations,
        residual=residual,
        calibration=table,
        version=params.name,
        params_digest=params_digest(params),
        timings={"build_s": t1 - t0, "solve_s": t2 - t1, "calibrate_s": t3 - t2},
        ranks=ranks,
        components=comp,
        params=params,
        graph=graph,
        integrity=detail,
    )


def _fit_integrity_table(raw: np.ndarray, params: AlgorithmParams) -> CalibrationTable:
    """The scale of the calibration population, with a first knot ``(0, band_high)`` below it."""
    rules = params.integrity
    assert rules is not None
    if len(raw) == 0:  # no audience anywhere yet: a line from the band to the floor
        return integrity.calibration_table(None, rules)
    fitted = fit_calibration(
        raw, params.target_mean, params.target_p95, params.calibration_knots, floor=rules.score_floor
    )
    return integrity.calibration_table(fitted, rules)
