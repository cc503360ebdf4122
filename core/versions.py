"""Named, immutable algorithm versions.

Every parameter of the score lives in :class:`AlgorithmParams`; a version is a name bound to one frozen
parameter set. Scoring the same data with the same version is reproducible bit for bit, and
:func:`params_digest` gives a stable fingerprint to store next to every score. The meaning of every
parameter is documented in ``docs/algorithm.md``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass

from core.errors import InvalidParametersError, UnknownVersionError
from core.integrity import IntegrityParams
from core.types import ENGAGEMENT_TYPES

__all__ = ["AlgorithmParams", "get_version", "list_versions", "params_digest"]


@dataclass(frozen=True)
class AlgorithmParams:
    """Every parameter of the influence score, with its default (= version ``v1``).

    Attributes
    ----------
    name : str
        Version name the parameters were published under (``"custom"`` if none).
    damping : float
        Probability (0.85) that rank keeps flowing along engagements instead of teleporting.
    tol : float
        Convergence threshold: L1 change of the rank vector (summing to 1) between passes (1e-6).
    max_iter : int
        Cap on solver passes (200).
    half_life_days : float
        Exponential decay half-life of an engagement's weight, in days (14).
    type_weights : tuple of float
        Weight of one engagement of each type, in :data:`core.types.ENGAGEMENT_TYPES` order:
        like 1, share 3, mention 2, reply 2, endorsement 4, quote 3, follow 1.5, view 0.1.
    amplification_types : tuple of str
        Types counted as amplification (share, mention, reply, quote); the rest is network impact.
    pair_exponent : float
        Diminishing returns per engager-author pair: pair weight = (decayed weighted count) ** 0.5.
    selectivity_k : float
        Leak constant of the out-row normalisation: an engager with total pair weight ``s`` passes
        ``w / (s + k)`` of their rank along a pair of weight ``w`` (k = 1).
    teleport_eps : float
        Teleport (own reach) of an account is proportional to ``log1p(followers) + teleport_eps`` (1).
    reach_weight : float
        Weight of the reach component (own teleport share) in the raw influence (0.5): the score is
        mostly earned through engagement, not through follower counts.
    volume_alpha, volume_ref_posts : float
        Amplification is divided by ``max(1, ((1 + posts) / (1 + volume_ref_posts)) ** volume_alpha)``
        (alpha 0.5, reference 10 posts in the window; posts 0 = unknown = no division).
    fresh_days, fresh_max_followers : float
        An account is *fresh* (anti-gaming) when created less than 30 days before ``now``, with at most
        0 followers, and no inbound engagement from a non-fresh account.
    fresh_teleport_factor, fresh_out_factor : float
        A fresh account's teleport is multiplied by 0.001 and the rank it passes on by 0.05.
    target_mean, target_p95 : float
        Calibration target: population mean 40 and 95th percentile 63 on the 1-100 scale.
    calibration_knots : int
        Number of probability knots of the stored calibration table (1024).
    topic_min_posts, topic_min_engagers : int
        Support a topic needs before it is assigned: 3 distinct posts and 5 distinct engagers.
    topic_max : int
        Topics kept per profile (10).
    integrity : IntegrityParams or None
        The score-integrity rules (:mod:`core.integrity`, from ``v3``): established accounts carry
        trust, mutual engagement cancels, breadth, a declared calibration population. ``None`` (``v1``,
        ``v2``): the fresh-account rule and a scale fitted on every profile.
    """

    name: str = "custom"
    damping: float = 0.85
    tol: float = 1e-6
    max_iter: int = 200
    half_life_days: float = 14.0
    type_weights: tuple[float, ...] = (1.0, 3.0, 2.0, 2.0, 4.0, 3.0, 1.5, 0.1)
    amplification_types: tuple[str, ...] = ("share", "mention", "reply", "quote")
    pair_exponent: float = 0.5
    selectivity_k: float = 1.0
    teleport_eps: float = 1.0
    reach_weight: float = 0.5
    volume_alpha: float = 0.5
    volume_ref_posts: float = 10.0
    fresh_days: float = 30.0
    fresh_max_followers: float = 0.0
    fresh_teleport_factor: float = 0.001
    fresh_out_factor: float = 0.05
    target_mean: float = 40.0
    target_p95: float = 63.0
    calibration_knots: int = 1024
    topic_min_posts: int = 3
    topic_min_engagers: int = 5
    topic_max: int = 10
    integrity: IntegrityParams | None = None

    def __post_init__(self) -> None:
        for name in ("type_weights", "amplification_types"):  # JSON gives lists
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        if isinstance(self.integrity, dict):  # from a stored or published parameter file
            try:
                object.__setattr__(self, "integrity", IntegrityParams(**self.integrity))
            except TypeError as exc:
                raise InvalidParametersError(f"invalid integrity parameters: {exc}") from None

    def validate(self) -> AlgorithmParams:
        """Return ``self`` or raise :class:`~core.errors.InvalidParametersError`."""

        def check(ok: bool, what: str) -> None:
            if not ok:
                raise InvalidParametersError(f"invalid parameter: {what}")

        check(0.0 < self.damping < 1.0, f"damping must be in (0, 1), got {self.damping}")
        check(0.0 < self.tol < 1.0, f"tol must be in (0, 1), got {self.tol}")
        check(self.max_iter >= 1, f"max_iter must be >= 1, got {self.max_iter}")
        check(self.half_life_days > 0, f"half_life_days must be > 0, got {self.half_life_days}")
        check(len(self.type_weights) == len(ENGAGEMENT_TYPES), "type_weights needs one weight per type")
        check(all(math.isfinite(w) and w >= 0 for w in self.type_weights), "type_weights must be >= 0")
        check(all(t in ENGAGEMENT_TYPES for t in self.amplification_types), "unknown amplification type")
        check(0.0 < self.pair_exponent <= 1.0, "pair_exponent must be in (0, 1]")
        check(self.selectivity_k >= 0, "selectivity_k must be >= 0")
        check(self.teleport_eps > 0, "teleport_eps must be > 0")
        check(0 < self.reach_weight <= 1, "reach_weight must be in (0, 1]")
        check(self.volume_alpha >= 0 and self.volume_ref_posts >= 0, "volume parameters must be >= 0")
        check(self.fresh_days >= 0 and self.fresh_max_followers >= 0, "fresh thresholds must be >= 0")
        check(0 < self.fresh_teleport_factor <= 1, "fresh_teleport_factor must be in (0, 1]")
        check(0 <= self.fresh_out_factor <= 1, "fresh_out_factor must be in [0, 1]")
        check(1 < self.target_mean < self.target_p95 < 100, "need 1 < target_mean < target_p95 < 100")
        check(self.calibration_knots >= 16, "calibration_knots must be >= 16")
        check(self.topic_min_posts >= 1 and self.topic_min_engagers >= 1, "topic support must be >= 1")
        check(self.topic_max >= 1, "topic_max must be >= 1")
        check(
            self.integrity is None or isinstance(self.integrity, IntegrityParams),
            "integrity must be a mapping",
        )
        if self.integrity is not None:
            self.integrity.validate()
        return self

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-serialisable dict of every parameter."""
        d = dataclasses.asdict(self)
        d["type_weights"] = list(self.type_weights)
        d["amplification_types"] = list(self.amplification_types)
        if self.integrity is None:  # versions before v3: the digest they were published with
            del d["integrity"]
        return d

    @classmethod
    def from_dict(cls, name: str, data: dict[str, object]) -> AlgorithmParams:
        """The validated parameters of release ``name`` from their JSON form (:meth:`to_dict`).

        Raises
        ------
        InvalidParametersError
            When a parameter is unknown or out of range.

        Examples
        --------
        >>> AlgorithmParams.from_dict("v2b", {**get_version("v2").to_dict(), "damping": 0.8}).damping
        0.8
        """
        values = dict(data)
        values["name"] = name
        for field in ("type_weights", "amplification_types"):
            if isinstance(values.get(field), list):
                values[field] = tuple(values[field])  # type: ignore[arg-type]
        try:
            return cls(**values).validate()  # type: ignore[arg-type]
        except TypeError as exc:
            raise InvalidParametersError(f"parameters of {name}: {exc}") from None


_VERSIONS: dict[str, AlgorithmParams] = {
    "v1": AlgorithmParams(name="v1"),
    # v2: a release that values conversation more, forgets slower, and watches fresh accounts longer.
    "v2": AlgorithmParams(
        name="v2",
        half_life_days=18.0,
        type_weights=(0.8, 3.0, 2.5, 3.0, 4.0, 3.5, 1.0, 0.05),
        pair_exponent=0.45,
        selectivity_k=1.5,
        fresh_days=60.0,
        fresh_out_factor=0.02,
    ),
    # v3: score integrity (core.integrity): one engagement cannot decide a score, and no farm, ring or
    # swap can buy one; the scale is fitted on established profiles with an audience.
    "v3": AlgorithmParams(name="v3", integrity=IntegrityParams()),
}


def list_versions() -> list[str]:
    """Names of the published algorithm versions, oldest first.

    Examples
    --------
    >>> list_versions()
    ['v1', 'v2', 'v3']
    """
    return list(_VERSIONS)


def get_version(name: str) -> AlgorithmParams:
    """The frozen parameter set published as ``name``.

    Raises
    ------
    UnknownVersionError
        If ``name`` is not a published version.

    Examples
    --------
    >>> get_version("v1").damping
    0.85
    """
    if not isinstance(name, str) or name not in _VERSIONS:
        raise UnknownVersionError(f"unknown algorithm version {name!r}; known: {', '.join(_VERSIONS)}")
    return _VERSIONS[name]


def resolve(version: str | AlgorithmParams) -> AlgorithmParams:
    """A validated :class:`AlgorithmParams` from a version name or a parameter set."""
    if isinstance(version, AlgorithmParams):
        return version.validate()
    return get_version(version).validate()


def params_digest(p: AlgorithmParams) -> str:
    """Stable hex SHA-256 of a parameter set (canonical JSON, the name included).

    Examples
    --------
    >>> params_digest(get_version("v1")) == params_digest(AlgorithmParams(name="v1"))
    True
    """
    if not isinstance(p, AlgorithmParams):
        raise InvalidParametersError("params_digest expects an AlgorithmParams")
    blob = json.dumps(p.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()
