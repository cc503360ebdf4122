"""Run the evaluation: every case for every version on the generated population and on Higgs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from renown.evaluate.cases import HIGGS_CASES, Case, Context, Sizes, run_cases
from renown.evaluate.population import Population, generate_population, load_higgs
from renown.evaluate.ranking import baselines, compare_rankings

__all__ = ["Evaluation", "evaluate"]


@dataclass
class Evaluation:
    """Measured cases of every version, plus the Higgs figures the report draws."""

    versions: list[str]
    seed: int
    sizes: Sizes
    populations: dict[str, dict[str, int]] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    rankings: dict[str, dict[str, Any]] = field(default_factory=dict)
    higgs_scores: dict[str, np.ndarray] = field(default_factory=dict)
    higgs_profiles: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def shift(self) -> dict[str, Any] | None:
        """The workflow's shift report of the demo data (Higgs) from the first version evaluated to
        the last (:func:`renown.evaluate.shift.shift_report`); None with fewer than two versions."""
        from renown.evaluate.shift import shift_report

        scored = [v for v in self.versions if v in self.higgs_scores]
        if len(scored) < 2:
            return None
        first, last = scored[0], scored[-1]
        return shift_report(
            self.higgs_profiles, self.higgs_scores[first], self.higgs_scores[last], last, first
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "versions": self.versions,
            "seed": self.seed,
            "sizes": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.sizes.__dict__.items()},
            "populations": self.populations,
            "cases": [c.to_dict() for c in self.cases],
            "rankings": self.rankings,
            "shift": self.shift(),
            "seconds": round(self.seconds, 1),
        }

    def holds(self, version: str) -> tuple[int, int]:
        """(cases that hold, cases) for one version."""
        mine = [c for c in self.cases if c.version == version]
        return sum(c.holds for c in mine), len(mine)


def _describe(pop: Population) -> dict[str, int]:
    return {"accounts": pop.n_accounts, "profiles": pop.n_profiles, "engagements": len(pop.engagements)}


def evaluate(
    versions: Sequence[str],
    seed: int = 1,
    sizes: Sizes | None = None,
    higgs: bool = True,
    higgs_dir: str | None = None,
    only: tuple[str, ...] | None = None,
    rankings: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Measure every case for every version (``only``: a subset of case names, ``"rankings"`` included).

    ``rankings``: compare the Higgs scores with PageRank, in-degree and unique engagers (Kendall tau).
    """
    sizes = sizes or Sizes()
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    ev = Evaluation(list(versions), seed, sizes)
    pops: list[Population] = [generate_population(seed, sizes.accounts, sizes.days)]
    if higgs:
        pops.append(load_higgs(higgs_dir))
        ev.higgs_profiles = list(pops[-1].accounts.profile_ids)
    for pop in pops:
        ev.populations[pop.name] = _describe(pop)
    want_rankings = ("rankings" in only) if only is not None else rankings
    base_rank = baselines(pops[1]) if higgs and want_rankings else None
    for version in versions:
        for pop in pops:
            is_higgs = pop.name == "higgs"
            names = HIGGS_CASES if is_higgs else None
            if only is not None:
                names = tuple(n for n in (names or only) if n in only)
            say(f"{version} on {pop.name}: {', '.join(names) if names else 'every case'}")
            ctx = Context(pop, version, seed)
            ev.cases += run_cases(ctx, sizes, names)
            if is_higgs:
                ev.higgs_scores[version] = ctx.base.score.copy()
                if base_rank is not None:
                    say(f"{version} on higgs: rankings against PageRank, in-degree, unique engagers")
                    ev.rankings[version] = compare_rankings(ctx.base, pop, base_rank)
    ev.seconds = time.perf_counter() - t0
    return ev
