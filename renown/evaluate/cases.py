"""The attacks and properties of the score-integrity targets, each a function returning measured
:class:`Case` rows.

(Over 500 lines: one short function per case, each readable alone; what they share is in
:mod:`renown.evaluate.population`.)

Every case builds :class:`core.types.Accounts` / :class:`core.types.Engagements` (through
:func:`renown.evaluate.population.extend`) and calls :func:`core.scoring.score_population` with the
version *name* it is given, so a new version is evaluated with no code change. A case measures the
points gained (or the figure the bound is about) against the right twin: the same population without
the attack, or an identical idle account scored in the same run.

Score of an account = score of its profile. Bystanders are compared per profile (by key).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.scoring import ScoreResult, score_population
from core.types import Engagements, engagement_type_code
from renown.evaluate.population import DAY, Population, distinct_engagers, extend, relink

__all__ = ["Bound", "Case", "Context", "Sizes"]


@dataclass(frozen=True)
class Bound:
    """``lo <= value <= hi`` (``strict``: ``<`` on the upper end); ``text`` is what the table shows."""

    text: str
    lo: float = -math.inf
    hi: float = math.inf
    strict: bool = False

    def holds(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        upper = value < self.hi if self.strict else value <= self.hi
        return bool(value >= self.lo and upper)


@dataclass
class Case:
    """One measured row: ``value`` against ``bound`` for one version on one population."""

    key: str
    title: str
    population: str
    version: str
    value: float
    bound: Bound
    unit: str = "points"
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return self.bound.holds(self.value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "population": self.population,
            "version": self.version,
            "value": _clean(self.value),
            "unit": self.unit,
            "bound": self.bound.text,
            "holds": self.holds,
            "detail": _clean(self.detail),
        }


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return round(v, 4) if math.isfinite(v) else None
    return v


@dataclass(frozen=True)
class Sizes:
    """Sizes of the generated populations and attacks (``quick()``: small ones)."""

    accounts: int = 3000
    days: float = 270.0
    farms: tuple[int, ...] = (1000, 10000)
    ring: int = 20
    ring_days: int = 30
    pod: int = 20
    swaps: int = 8
    linked_idle: int = 20
    drops: int = 5
    drop_fraction: float = 0.01
    decay_people: int = 8
    explain_profiles: int = 8

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            accounts=1500,
            days=270.0,
            farms=(100, 1000),
            ring=10,
            ring_days=10,
            pod=10,
            swaps=3,
            linked_idle=20,
            drops=2,
            decay_people=8,
            explain_profiles=3,
        )


class Context:
    """A version and a population, with the baseline scores cached."""

    def __init__(self, pop: Population, version: str, seed: int = 0) -> None:
        self.pop = pop
        self.version = version
        self.seed = seed
        self._base: ScoreResult | None = None
        self._engagers: np.ndarray | None = None

    def score(self, pop: Population, **kw: Any) -> ScoreResult:
        return score_population(pop.engagements, pop.accounts, self.version, now=pop.now, **kw)

    @property
    def base(self) -> ScoreResult:
        if self._base is None:
            self._base = self.score(self.pop)
        return self._base

    @property
    def engagers(self) -> np.ndarray:
        """Distinct engagers per profile of the base population."""
        if self._engagers is None:
            self._engagers = distinct_engagers(self.pop)
        return self._engagers

    def rng(self, salt: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, salt])

    def account_score(self, res: ScoreResult, pop: Population, account: int) -> float:
        return float(res.score[pop.accounts.profile[account]])

    def case(
        self, key: str, title: str, value: float, bound: Bound, unit: str = "points", **detail: Any
    ) -> Case:
        return Case(key, title, self.pop.name, self.version, float(value), bound, unit, dict(detail))

    # ---- choosing accounts --------------------------------------------------------------------------

    def single_account_profiles(self) -> np.ndarray:
        """Accounts that are the only account of their profile."""
        prof = self.pop.accounts.profile
        counts = np.bincount(prof, minlength=self.pop.n_profiles)
        return np.flatnonzero(counts[prof] == 1)

    def pick_near(self, score: float, k: int = 1, min_engagers: int = 3) -> np.ndarray:
        """``k`` single-account accounts whose base score is nearest ``score`` (>= ``min_engagers``)."""
        cand = self.single_account_profiles()
        prof = self.pop.accounts.profile[cand]
        cand = cand[self.engagers[prof] >= min_engagers]
        dist = np.abs(self.base.score[self.pop.accounts.profile[cand]] - score)
        order = np.lexsort((cand, dist))
        return cand[order[:k]]

    def idle_accounts(self, k: int) -> np.ndarray:
        """``k`` single-account accounts that received no engagement, chosen at random."""
        cand = self.single_account_profiles()
        cand = cand[self.engagers[self.pop.accounts.profile[cand]] == 0]
        return self.rng(11).choice(cand, size=min(k, len(cand)), replace=False)

    def bystander_moves(self, res: ScoreResult, pop: Population, exclude: set[str]) -> np.ndarray:
        """Score change of every base profile not in ``exclude`` (by key) between base and ``res``."""
        keys = self.pop.accounts.profile_ids
        new_index = {k: i for i, k in enumerate(pop.accounts.profile_ids)}
        sel = [i for i, k in enumerate(keys) if k not in exclude]
        after = res.score[[new_index[keys[i]] for i in sel]]
        return np.asarray(after - self.base.score[sel])


def _rows(
    src: np.ndarray | list[int],
    dst: np.ndarray | list[int],
    etype: str,
    ts: np.ndarray | float,
) -> Engagements:
    s = np.asarray(src, dtype=np.int64)
    return Engagements.from_arrays(
        s, np.asarray(dst, dtype=np.int64), np.ones(len(s)), engagement_type_code(etype), ts
    )


def _daily(members: np.ndarray, days: int, now: float, etype: str = "share") -> Engagements:
    """Every member engages every other member once a day for ``days`` days before ``now``."""
    k = len(members)
    a, b = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    off = a != b
    src = np.repeat(members[a[off]], days)
    dst = np.repeat(members[b[off]], days)
    ts = np.tile(now - (np.arange(days) + 0.5) * DAY, int(off.sum()))
    return _rows(src, dst, etype, ts)


def _time(pop: Population, days_ago: float) -> float:
    """A timestamp ``days_ago`` before ``now`` (NaN on populations without times)."""
    has_times = bool(np.isfinite(pop.engagements.ts).any())
    return pop.now - days_ago * DAY if has_times else math.nan


# ---- 1. breadth ---------------------------------------------------------------------------------------


def hub_one_engagement(ctx: Context) -> list[Case]:
    """One mention from the top account onto an idle newcomer: the newcomer must stay below 63."""
    pop, base = ctx.pop, ctx.base
    hub_profile = int(np.argmax(base.score))
    hub = int(np.flatnonzero(pop.accounts.profile == hub_profile)[0])
    net = int(pop.accounts.network[hub])
    n = pop.n_accounts
    created = pop.now - 5 * DAY if np.isfinite(pop.accounts.created).any() else math.nan
    attacked = extend(
        pop,
        ["eval:newcomer"],
        network=[net],
        created=created,
        engagements=_rows([hub], [n], "mention", _time(pop, 0.0)),
    )
    res = ctx.score(attacked)
    value = ctx.account_score(res, attacked, n)
    rank = int((res.score > res.score[attacked.accounts.profile[n]]).sum()) + 1
    return [
        ctx.case(
            "breadth.hub_one_engagement",
            "hub: one engagement onto an idle newcomer (its score)",
            value,
            Bound("< 63", hi=63.0, strict=True),
            unit="score",
            hub=pop.accounts.ids[hub],
            hub_score=float(base.score[hub_profile]),
            newcomer_rank=rank,
            profiles=attacked.n_profiles,
        )
    ]


def single_engager_vs_median(ctx: Context) -> list[Case]:
    """Best single-engager profile minus the median profile with >= 10 engagers (must be <= 0)."""
    s = ctx.base.score
    single = s[ctx.engagers == 1]
    broad = s[ctx.engagers >= 10]
    if len(single) == 0 or len(broad) == 0:
        return []
    med = float(np.median(broad))
    return [
        ctx.case(
            "breadth.single_engager",
            "best single-engager minus median 10+-engager account",
            float(single.max()) - med,
            Bound("<= 0", hi=0.0),
            best_single=float(single.max()),
            median_ten_plus=med,
            single_above_median=int((single > med).sum()),
            singles=len(single),
            ten_plus=len(broad),
        )
    ]


def edge_drop_stability(ctx: Context, drops: int = 5, fraction: float = 0.01) -> list[Case]:
    """Largest score move of any profile when a random 1% of the engagement rows is dropped."""
    pop, base = ctx.pop, ctx.base
    m = len(pop.engagements)
    per_drop: list[dict[str, float]] = []
    for k in range(drops):
        keep = np.ones(m, dtype=bool)
        keep[ctx.rng(100 + k).choice(m, size=max(1, round(fraction * m)), replace=False)] = False
        res = ctx.score(pop.with_engagements(pop.engagements.take(keep)))
        move = np.abs(res.score - base.score)
        per_drop.append(
            {
                "max": float(move.max()),
                "p99": float(np.percentile(move, 99)),
                "p999": float(np.percentile(move, 99.9)),
                "mean": float(move.mean()),
            }
        )
    return [
        ctx.case(
            "breadth.edge_drop",
            f"max score move, {drops} random {fraction:.0%} edge drops",
            max(d["max"] for d in per_drop),
            Bound("<= 10", hi=10.0),
            drops=per_drop,
        )
    ]


# ---- 2. farms -----------------------------------------------------------------------------------------

FARM_VARIANTS: dict[str, dict[str, Any]] = {
    "fresh": {"age_days": 2.0, "followers": 0.0, "liked_back": False, "label": "2 days old, no followers"},
    "follower": {"age_days": 2.0, "followers": 1.0, "liked_back": False, "label": "1 follower"},
    "aged31": {"age_days": 31.0, "followers": 0.0, "liked_back": False, "label": "31 days old"},
    "unknown": {"age_days": None, "followers": 0.0, "liked_back": False, "label": "unknown creation time"},
    "liked_back": {
        "age_days": 2.0,
        "followers": 0.0,
        "liked_back": True,
        "label": "liked back by the target",
    },
}


def build_farm(
    pop: Population, target: int, size: int, variant: str, rng: np.random.Generator, peers: int = 5
) -> Population:
    """``size`` bots: each shares and likes the target's posts over two weeks and likes ``peers`` bots.

    Variant ``liked_back``: the target likes each bot once as well. Adds exactly ``size`` accounts and
    ``size * (4 + peers)`` rows (plus ``size`` for ``liked_back``).
    """
    v = FARM_VARIANTS[variant]
    n = pop.n_accounts
    bots = np.arange(n, n + size)
    created = math.nan if v["age_days"] is None else pop.now - float(v["age_days"]) * DAY
    t = rng.uniform(0.0, 14.0, size=(size, 4))
    ts = (
        np.array([_time(pop, float(x)) for x in t.ravel()])
        if not np.isfinite(pop.now)
        else (
            pop.now - t.ravel() * DAY if np.isfinite(pop.engagements.ts).any() else np.full(t.size, math.nan)
        )
    )
    rows = _rows(np.repeat(bots, 4), np.full(4 * size, target), "share", ts)
    types = np.tile(np.array([engagement_type_code(x) for x in ("share", "like", "mention", "like")]), size)
    rows = Engagements(rows.src, rows.dst, rows.weight, types.astype(np.uint8), rows.ts)
    if peers and size > 1:
        off = rng.integers(1, size, size=(size, peers))
        peer = (np.arange(size)[:, None] + off) % size
        rows = rows.concat(_rows(np.repeat(bots, peers), bots[peer.ravel()], "like", _time(pop, 1.0)))
    if v["liked_back"]:
        rows = rows.concat(_rows(np.full(size, target), bots, "like", _time(pop, 1.0)))
    return extend(
        pop,
        [f"eval:bot{i}" for i in range(size)],
        network=np.full(size, pop.accounts.network[target]),
        followers=float(v["followers"]),
        posts=1.0,
        created=created,
        engagements=rows,
    )


def farms(ctx: Context, sizes: tuple[int, ...] = (1000, 10000)) -> list[Case]:
    """Farms of each size and variant engaging a target near 40: target gain and bystander move.

    The details also give both figures under the base population's calibration table (no refit), which
    separates what the farm's rank buys from what re-fitting the scale on the bots moves.
    """
    target = int(ctx.pick_near(40.0)[0])
    before = ctx.account_score(ctx.base, ctx.pop, target)
    tkey = ctx.pop.accounts.profile_ids[ctx.pop.accounts.profile[target]]
    out: list[Case] = []
    for size in sizes:
        for j, (variant, v) in enumerate(FARM_VARIANTS.items()):
            attacked = build_farm(ctx.pop, target, size, variant, ctx.rng(200 + 10 * size + j))
            res = ctx.score(attacked)
            gain = ctx.account_score(res, attacked, target) - before
            moves = ctx.bystander_moves(res, attacked, {tkey})
            # diagnostic: the same farm under the base population's stored calibration table (no refit)
            fixed = ctx.score(attacked, calibration=ctx.base.calibration)
            fixed_moves = ctx.bystander_moves(fixed, attacked, {tkey})
            diag: dict[str, Any] = {
                "stored_table_target_gain": ctx.account_score(fixed, attacked, target) - before,
                "stored_table_bystander": float(np.median(np.abs(fixed_moves))),
            }
            label = f"farm of {size:,} ({v['label']})"
            out.append(
                ctx.case(
                    f"sybil.farm{size}.{variant}.target",
                    f"{label}: target gain",
                    gain,
                    Bound("<= 3", hi=3.0),
                    target=ctx.pop.accounts.ids[target],
                    before=before,
                    **diag,
                )
            )
            out.append(
                ctx.case(
                    f"sybil.farm{size}.{variant}.bystander",
                    f"{label}: median bystander abs move",
                    float(np.median(np.abs(moves))),
                    Bound("<= 0.5", hi=0.5),
                    median_signed=float(np.median(moves)),
                    max_abs=float(np.abs(moves).max()),
                )
            )
    return out


# ---- 3. collusion -------------------------------------------------------------------------------------


def ring(ctx: Context, size: int = 20, days: int = 30) -> list[Case]:
    """``size`` aged accounts sharing only each other daily vs an idle twin in the same run."""
    pop = ctx.pop
    n = pop.n_accounts
    members = np.arange(n, n + size)
    twin = n + size
    fol = float(np.median(pop.accounts.followers))
    created = pop.now - 400 * DAY if np.isfinite(pop.accounts.created).any() else math.nan
    attacked = extend(
        pop,
        [*(f"eval:ring{i}" for i in range(size)), "eval:twin"],
        followers=fol,
        posts=float(days),
        created=created,
        engagements=_daily(members, days, pop.now),
    )
    if not np.isfinite(pop.engagements.ts).any():
        e = attacked.engagements
        ts = e.ts.copy()
        ts[len(pop.engagements) :] = math.nan
        attacked = attacked.with_engagements(Engagements(e.src, e.dst, e.weight, e.etype, ts))
    res = ctx.score(attacked)
    ring_scores = res.score[attacked.accounts.profile[members]]
    twin_score = ctx.account_score(res, attacked, twin)
    return [
        ctx.case(
            "collusion.ring",
            f"ring of {size} aged, daily for {days} d, vs idle twin",
            float(ring_scores.mean()) - twin_score,
            Bound("<= 5", hi=5.0),
            ring_mean=float(ring_scores.mean()),
            twin=twin_score,
        )
    ]


def pod(ctx: Context, size: int = 20, days: int = 30) -> list[Case]:
    """``size`` ordinary accounts (near the median) sharing each other daily: average gain."""
    med = float(np.median(ctx.base.score[ctx.engagers >= 1]))
    members = ctx.pick_near(med, size)
    attacked = ctx.pop.with_engagements(ctx.pop.engagements.concat(_daily(members, days, ctx.pop.now)))
    res = ctx.score(attacked)
    p = ctx.pop.accounts.profile[members]
    gains = res.score[p] - ctx.base.score[p]
    return [
        ctx.case(
            "collusion.pod",
            f"pod of {size} ordinary, daily for {days} d (avg gain)",
            float(gains.mean()),
            Bound("<= 3", hi=3.0),
            max_gain=float(gains.max()),
            base_median=med,
        )
    ]


def swaps(ctx: Context, pairs: int = 8) -> list[Case]:
    """One like each way between two accounts (idle or ordinary): the largest gain of either."""
    idle = ctx.idle_accounts(pairs)
    med = float(np.median(ctx.base.score[ctx.engagers >= 1]))
    ordinary = ctx.pick_near(med, pairs)
    chosen: list[tuple[int, int]] = [(int(idle[2 * i]), int(idle[2 * i + 1])) for i in range(len(idle) // 2)]
    chosen += [(int(ordinary[2 * i]), int(ordinary[2 * i + 1])) for i in range(len(ordinary) // 2)]
    gains: list[float] = []
    t = _time(ctx.pop, 0.5)
    for a, b in chosen:
        attacked = ctx.pop.with_engagements(ctx.pop.engagements.concat(_rows([a, b], [b, a], "like", t)))
        res = ctx.score(attacked)
        for x in (a, b):
            gains.append(ctx.account_score(res, attacked, x) - ctx.account_score(ctx.base, ctx.pop, x))
    return [
        ctx.case(
            "collusion.swap",
            "like-for-like swap (largest gain)",
            max(gains),
            Bound("<= 1", hi=1.0),
            pairs=len(chosen),
            gains=gains,
        )
    ]


# ---- 4. linking ---------------------------------------------------------------------------------------


def linking(ctx: Context, idle: int = 20) -> list[Case]:
    """Linked idle accounts (100 followers, no engagement) add <= 2; own second account counts 0."""
    pop = ctx.pop
    person = int(ctx.pick_near(45.0)[0])
    key = pop.accounts.profile_ids[pop.accounts.profile[person]]
    before = ctx.account_score(ctx.base, pop, person)
    created = pop.now - 400 * DAY if np.isfinite(pop.accounts.created).any() else math.nan
    linked = extend(
        pop,
        [f"eval:linked{i}" for i in range(idle)],
        followers=100.0,
        posts=10.0,
        created=created,
        profiles=[key] * idle,
    )
    res = ctx.score(linked)
    gain_idle = ctx.account_score(res, linked, person) - before
    # own second account: linked, then engaging the first daily for 30 days
    n = pop.n_accounts
    second = extend(
        pop, ["eval:second"], network="mastodon", followers=50.0, posts=10.0, created=created, profiles=[key]
    )
    res2 = ctx.score(second)
    own = second.with_engagements(second.engagements.concat(_daily(np.array([n, person]), 30, pop.now)))
    # keep only the rows from the second account to the first (and drop the reverse)
    e = own.engagements
    keep = np.ones(len(e), dtype=bool)
    keep[len(second.engagements) :] = e.src[len(second.engagements) :] == n
    own = own.with_engagements(e.take(keep))
    res3 = ctx.score(own)
    gain_own = ctx.account_score(res3, own, person) - ctx.account_score(res2, second, person)
    return [
        ctx.case(
            "linking.idle",
            f"linking {idle} idle accounts to a person (gain)",
            gain_idle,
            Bound("<= 2", hi=2.0),
            person=pop.accounts.ids[person],
            before=before,
        ),
        ctx.case(
            "linking.own_second",
            "own linked second account engaging the first",
            gain_own,
            Bound("= 0 (<= 0.01)", lo=-0.01, hi=0.01),
        ),
    ]


# ---- 5. calibration -----------------------------------------------------------------------------------


def calibration_population(res: ScoreResult, pop: Population, engagers: np.ndarray) -> tuple[np.ndarray, str]:
    """The profiles the version declares it calibrates over.

    A result attribute ``calibration_mask`` (bool per profile) wins; else the version parameter
    ``calibration_population`` (``"all"`` or ``"engaged"``: profiles that received engagement); else
    every profile (v1, v2).
    """
    mask = getattr(res, "calibration_mask", None)
    if mask is None and res.integrity is not None:
        mask = res.integrity.calibrated
    if isinstance(mask, np.ndarray) and mask.dtype == bool and mask.shape == res.score.shape:
        return mask, "declared by the result (calibration_mask)"
    declared = getattr(res.params, "calibration_population", "all")
    if declared == "engaged":
        return engagers > 0, "profiles that received engagement"
    return np.ones(len(res.score), dtype=bool), "every profile"


def calibration(ctx: Context) -> list[Case]:
    """Mean 40 +- 1, P95 63 +- 1, no value > 2% over the calibration population; idle < 20."""
    res = ctx.base
    mask, what = calibration_population(res, ctx.pop, ctx.engagers)
    s = res.score[mask]
    _, counts = np.unique(s, return_counts=True)
    top_share = float(counts.max() / len(s)) if len(s) else 0.0
    idle = res.score[ctx.engagers == 0]
    idle_max = float(idle.max()) if len(idle) else 0.0
    return [
        ctx.case(
            "calibration.mean",
            "calibration: mean",
            float(s.mean()),
            Bound("40 +- 1", 39.0, 41.0),
            unit="score",
            population_rule=what,
            size=int(mask.sum()),
        ),
        ctx.case(
            "calibration.p95",
            "calibration: P95",
            float(np.percentile(s, 95)),
            Bound("63 +- 1", 62.0, 64.0),
            unit="score",
        ),
        ctx.case(
            "calibration.tie",
            "calibration: largest share of one value",
            100 * top_share,
            Bound("<= 2%", hi=2.0),
            unit="%",
        ),
        ctx.case(
            "calibration.no_engagement",
            "no-engagement profiles: highest score",
            idle_max,
            Bound("< 20", hi=20.0, strict=True),
            unit="score",
            profiles=len(idle),
        ),
    ]


# ---- 6. still true ------------------------------------------------------------------------------------


def unique_vs_repeated(ctx: Context) -> list[Case]:
    """Ten likes from ten people beat ten likes from one person (twin newcomers, same run)."""
    pop = ctx.pop
    n = pop.n_accounts
    engagers = ctx.pick_near(float(np.median(ctx.base.score[ctx.engagers >= 1])), 10)
    t = _time(pop, 1.0)
    rows = _rows(engagers, np.full(10, n), "share", t).concat(
        _rows(np.full(10, engagers[0]), np.full(10, n + 1), "share", t)
    )
    attacked = extend(pop, ["eval:unique", "eval:repeated"], engagements=rows, followers=10.0, posts=10.0)
    res = ctx.score(attacked)
    diff = ctx.account_score(res, attacked, n) - ctx.account_score(res, attacked, n + 1)
    return [
        ctx.case(
            "still.unique_engagers", "unique: 10 engagers minus 1 engager x10", diff, Bound("> 0", lo=1e-9)
        )
    ]


def selective(ctx: Context, crowd: int = 10) -> list[Case]:
    """A selective engager's share is worth more than a prolific engager's (same rank, same share).

    Both engagers are established accounts (created two years before ``now``): the property is about
    selectivity, not about the trust new accounts lack. Measured twice: one engager per target (both
    targets then sit in the low-evidence band, where one engager cannot lift a score far), and
    ``crowd`` selective engagers against ``crowd`` prolific ones, each engager with the same five
    supporters (targets with enough evidence for the full scale).
    """
    pop = ctx.pop
    n = pop.n_accounts
    support = ctx.pick_near(50.0, 5)
    t = _time(pop, 1.0)
    others = ctx.rng(300).choice(pop.n_accounts, size=50, replace=False)
    out = []
    for k, key, title in (
        (1, "still.selective", "selective engager minus prolific engager"),
        (crowd, "still.selective_crowd", f"{crowd} selective engagers minus {crowd} prolific"),
    ):
        sel, pro = np.arange(n, n + k), np.arange(n + k, n + 2 * k)
        t1, t2 = n + 2 * k, n + 2 * k + 1
        engagers = np.concatenate([sel, pro])
        rows = (
            _rows(np.tile(support, len(engagers)), np.repeat(engagers, len(support)), "share", t)
            .concat(_rows(sel, np.full(k, t1), "share", t))
            .concat(_rows(pro, np.full(k, t2), "share", t))
            .concat(_rows(np.repeat(pro, len(others)), np.tile(others, k), "share", t))
        )
        ids = [f"eval:selective{i}" for i in range(k)] + [f"eval:prolific{i}" for i in range(k)]
        attacked = extend(
            pop,
            [*ids, "eval:t_sel", "eval:t_pro"],
            engagements=rows,
            followers=10.0,
            posts=10.0,
            created=pop.now - 730 * 86400.0,
        )
        res = ctx.score(attacked)
        diff = ctx.account_score(res, attacked, t1) - ctx.account_score(res, attacked, t2)
        out.append(ctx.case(key, title, diff, Bound("> 0", lo=1e-9)))
    return out


def volume(ctx: Context) -> list[Case]:
    """Same shares, 5 posts vs 500 posts in the window: the low-volume author scores higher."""
    pop = ctx.pop
    n = pop.n_accounts
    support = ctx.pick_near(50.0, 5)
    t = _time(pop, 1.0)
    rows = _rows(
        np.concatenate([support, support]), np.concatenate([np.full(5, n), np.full(5, n + 1)]), "share", t
    )
    attacked = extend(
        pop,
        ["eval:few_posts", "eval:many_posts"],
        engagements=rows,
        followers=10.0,
        posts=np.array([5.0, 500.0]),
    )
    res = ctx.score(attacked)
    diff = ctx.account_score(res, attacked, n) - ctx.account_score(res, attacked, n + 1)
    return [
        ctx.case("still.volume", "volume: same reactions, 5 minus 500 posts", diff, Bound("> 0", lo=1e-9))
    ]


def silence(ctx: Context, people: int = 8) -> list[Case]:
    """14 (90) days of silence for active people near 50 (>= 5 engagers in the last 30 days): their inbound
    engagement rows are 14 (90) days older while everyone else's stay as they are."""
    pop = ctx.pop
    if not np.isfinite(pop.engagements.ts).any():
        return []
    # active people: >= 5 distinct engagers in the last 30 days
    e = pop.engagements
    recent = (e.ts >= pop.now - 30 * DAY) & (e.src != e.dst)
    pairs = np.unique(e.src[recent] * pop.n_accounts + e.dst[recent])
    active = np.bincount(pairs % pop.n_accounts, minlength=pop.n_accounts) >= 5
    cand = ctx.single_account_profiles()
    cand = cand[active[cand]]
    dist = np.abs(ctx.base.score[pop.accounts.profile[cand]] - 50.0)
    chosen = cand[np.lexsort((cand, dist))[:people]]
    cost: dict[int, list[float]] = {14: [], 90: []}
    for a in chosen.tolist():
        before = ctx.account_score(ctx.base, pop, a)
        rows = pop.engagements.dst == a
        for days in (14, 90):
            ts = pop.engagements.ts.copy()
            ts[rows] -= days * DAY
            e = pop.engagements
            res = ctx.score(pop.with_engagements(Engagements(e.src, e.dst, e.weight, e.etype, ts)))
            cost[days].append(before - ctx.account_score(res, pop, a))
    c14 = float(np.median(cost[14]))
    c90 = float(np.median(cost[90]))
    return [
        ctx.case(
            "still.silence14",
            "14 days of silence near 50 (median cost)",
            c14,
            Bound("1 .. 4", 1.0, 4.0),
            costs=cost[14],
        ),
        ctx.case(
            "still.silence90",
            "90 days of silence near 50 (median cost)",
            c90,
            Bound(f">= {max(5.0, 2.5 * c14):.1f}", lo=max(5.0, 2.5 * c14)),
            costs=cost[90],
        ),
    ]


def networks_add_up(ctx: Context) -> list[Case]:
    """Under one calibration table, a profile scores at least its best account alone (linking only adds)."""
    pop = ctx.pop
    counts = np.bincount(pop.accounts.profile, minlength=pop.n_profiles)
    multi = np.flatnonzero(counts > 1)
    if len(multi) == 0:
        return []
    alone = relink(pop, pop.accounts.ids)
    res_alone = ctx.score(alone)
    res_linked = ctx.score(pop, calibration=res_alone.calibration)
    best = np.zeros(pop.n_profiles)
    np.maximum.at(best, pop.accounts.profile, res_alone.score)
    diff = res_linked.score[multi] - best[multi]
    return [
        ctx.case(
            "still.networks_add_up",
            "networks add up: profile minus best account",
            float(diff.min()),
            Bound(">= 0", lo=-1e-9),
            mean_gain=float(diff.mean()),
            profiles=len(multi),
        )
    ]


def determinism(ctx: Context) -> list[Case]:
    """The same data and version give the same scores bit for bit (also on one thread)."""
    import numba

    a = ctx.score(ctx.pop)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b = ctx.score(ctx.pop)
    finally:
        numba.set_num_threads(threads)
    same = np.array_equal(a.score, ctx.base.score) and np.array_equal(b.score, ctx.base.score)
    same = same and np.array_equal(a.raw_profile, b.raw_profile)
    diff = float(np.abs(b.score - ctx.base.score).max())
    return [
        ctx.case(
            "still.determinism",
            "determinism: max difference between runs",
            0.0 if same else max(diff, 1e-300),
            Bound("= 0", lo=0.0, hi=0.0),
            unit="points",
        )
    ]


# ---- 7. explanations ----------------------------------------------------------------------------------


def explanation_faithfulness(ctx: Context, profiles: int = 8) -> list[Case]:
    """Points attributed to the top engager vs the real drop when that engager's rows are removed.

    If the explanation carries the score without each top engager (``score_without``, versions from
    v3), that counterfactual is compared to the real rescoring; else the additive points are. The
    rescoring applies the base's calibration table, as the live service does between releases (the
    stream updater scores under the release's table) and as the counterfactual states; a rescoring
    that fits a new table moves every score a little and leaves the top profile where it is (the table
    maps ranks), so its drop is in the detail (``refit``), not in the bound.
    """
    from core.explain import explain

    pop, base = ctx.pop, ctx.base
    cand = np.flatnonzero(ctx.engagers >= 3)
    if len(cand) == 0:
        return []
    order = cand[np.argsort(base.score[cand], kind="stable")]
    picks = order[np.linspace(len(order) // 2, len(order) - 1, profiles).astype(int)]
    rows: list[dict[str, float]] = []
    for p in picks.tolist():
        ex = explain(base, pop.engagements, pop.accounts, int(p), top_n=1)
        if not ex["top_engagers"]:
            continue
        top = ex["top_engagers"][0]
        u = pop.accounts.ids.index(top["account"])
        members = np.flatnonzero(pop.accounts.profile == p)
        e = pop.engagements
        keep = ~((e.src == u) & np.isin(e.dst, members))
        without = pop.with_engagements(e.take(keep))
        res = ctx.score(without, calibration=base.calibration)
        actual = float(base.score[p] - res.score[p])
        refit = float(base.score[p] - ctx.score(without).score[p])
        if "score_without" in top:
            claimed = float(base.score[p] - top["score_without"])
        else:
            claimed = float(top["points"])
        rows.append({"score": float(base.score[p]), "claimed": claimed, "actual": actual, "refit": refit})
    if not rows:
        return []
    err = max(abs(r["claimed"] - r["actual"]) for r in rows)
    ratio = max((r["claimed"] / r["actual"]) if r["actual"] > 1e-9 else math.inf for r in rows)
    return [
        ctx.case(
            "explain.top_engager",
            "explain: |top engager points - real drop|",
            err,
            Bound("<= 0.5", hi=0.5),
            worst_ratio=ratio,
            profiles=rows,
        )
    ]


#: The cases run on the generated population, in table order.
GENERATED_CASES: tuple[tuple[str, Callable[..., list[Case]]], ...] = (
    ("hub", hub_one_engagement),
    ("single", single_engager_vs_median),
    ("drop", edge_drop_stability),
    ("farms", farms),
    ("ring", ring),
    ("pod", pod),
    ("swap", swaps),
    ("linking", linking),
    ("calibration", calibration),
    ("unique", unique_vs_repeated),
    ("selective", selective),
    ("volume", volume),
    ("silence", silence),
    ("networks", networks_add_up),
    ("determinism", determinism),
    ("explain", explanation_faithfulness),
)
#: The cases run on the Higgs networks.
HIGGS_CASES: tuple[str, ...] = ("hub", "single", "drop", "calibration")


def run_cases(ctx: Context, sizes: Sizes, only: tuple[str, ...] | None = None) -> list[Case]:
    """Every case (or those named in ``only``) on the context's population and version."""
    kwargs: dict[str, dict[str, Any]] = {
        "drop": {"drops": sizes.drops, "fraction": sizes.drop_fraction},
        "farms": {"sizes": sizes.farms},
        "ring": {"size": sizes.ring, "days": sizes.ring_days},
        "pod": {"size": sizes.pod, "days": sizes.ring_days},
        "swap": {"pairs": sizes.swaps},
        "linking": {"idle": sizes.linked_idle},
        "silence": {"people": sizes.decay_people},
        "explain": {"profiles": sizes.explain_profiles},
    }
    out: list[Case] = []
    for name, fn in GENERATED_CASES:
        if only is not None and name not in only:
            continue
        out += fn(ctx, **kwargs.get(name, {}))
    return out
