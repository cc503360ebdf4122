"""Response and request models of the public API, kept apart from the storage records.

The storage records (``functions.shared.records``) are what writers put in the table; these are the
public contract. Converters from records live next to the models that need them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from functions.shared.records import ScoreRecord
from functions.shared.settings import Network


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- errors ------------------------------------------------------------------------------------


class FieldError(ApiModel):
    """One invalid field of a request."""

    field: str = Field(description="dotted location, e.g. `query.days`")
    message: str
    kind: str = Field(description="pydantic error type, e.g. `less_than_equal`")


class ProblemDetails(ApiModel):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    type: str = Field(description="stable URI of the kind of problem")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="field errors (422 only)")
    merged_into: str | None = Field(
        default=None, description="`profile-merged` (308) only: the profile this one was merged into"
    )


# --- health and identity -------------------------------------------------------------------------


class Health(ApiModel):
    status: Literal["ok"] = "ok"
    store: Literal["ok"] = "ok"
    algorithm_version: str | None = None


class Identity(ApiModel):
    """A network account resolved to the Renown profile it is linked to."""

    profile_id: str
    network: str
    account_id: str
    handle: str


# --- profiles and scores ---------------------------------------------------------------------------


class Topic(ApiModel):
    slug: str
    name: str = ""
    score: float = 0.0


class Style(ApiModel):
    name: str = ""
    axes: dict[str, float] = Field(default_factory=dict)


class ScoreChanges(ApiModel):
    day_change: float = 0.0
    week_change: float = 0.0
    month_change: float = 0.0


class Score(ScoreChanges):
    """A profile's score: 1-100, with its changes and per-network sub-scores."""

    profile_id: str
    score: float
    bucket: str = ""
    algorithm_version: str
    computed_at: int = Field(description="Unix seconds")
    networks: dict[str, float] = Field(default_factory=dict, description="per-network sub-scores (1-100)")
    signals: dict[str, float] = Field(default_factory=dict)
    provisional: bool = Field(
        default=False,
        description="true between full scoring passes: scored from the person's own engagement with the "
        "last pass's ranks and calibration table; the next pass replaces it",
    )

    @classmethod
    def from_record(cls, rec: ScoreRecord) -> Score:
        """Public view of a stored score.

        Examples
        --------
        >>> rec = ScoreRecord(profile_id="p1", score=42.0, algorithm_version="v1", computed_at=0)
        >>> Score.from_record(rec).score
        42.0
        """
        return cls.model_validate(rec.model_dump())


class LinkedAccount(ApiModel):
    network: str
    account_id: str
    handle: str


class Profile(ApiModel):
    """A person: name, linked accounts, score summary, top topics and style."""

    profile_id: str
    name: str
    accounts: list[LinkedAccount]
    score: float | None = None
    bucket: str = ""
    changes: ScoreChanges = Field(default_factory=ScoreChanges)
    algorithm_version: str | None = None
    provisional: bool = Field(default=False, description="the score is provisional (see Score)")
    topics: list[Topic] = Field(default_factory=list)
    style: Style | None = None


class ChangeAttribution(ApiModel):
    """How much of the change since an algorithm release came from the new algorithm versus the
    person's own activity: ``algorithm + activity == total``."""

    previous_version: str
    released_on: str = Field(description="first day scored by the current version (YYYY-MM-DD)")
    baseline_score: float = Field(description="score under the previous version the day before release")
    previous_version_score: float = Field(description="today's score under the previous version")
    total: float
    algorithm: float
    activity: float


class Explanation(ApiModel):
    """The contributions that add up to the score, as the scoring core explained them."""

    profile_id: str
    algorithm_version: str
    score: float
    networks: dict[str, Any] | list[dict[str, Any]] = Field(
        default_factory=dict, description="contribution per network (core.explain writes a list of entries)"
    )
    signals: dict[str, Any] = Field(default_factory=dict, description="contribution per signal")
    top_engagers: list[dict[str, Any]] = Field(default_factory=list)
    decay: dict[str, Any] = Field(default_factory=dict)
    other: dict[str, Any] = Field(default_factory=dict, description="any further terms of the explanation")
    change_attribution: ChangeAttribution | None = None


class HistoryPoint(ApiModel):
    day: str
    score: float
    algorithm_version: str
    version_changed: bool = Field(description="true on the first day scored by a new algorithm version")


class History(ApiModel):
    profile_id: str
    days: int
    points: list[HistoryPoint]


class Topics(ApiModel):
    profile_id: str
    algorithm_version: str
    topics: list[Topic]


class InfluenceLink(ApiModel):
    """One person in someone's influence graph, with the interactions behind the link."""

    profile_id: str | None = None
    network: str | None = None
    account_id: str | None = None
    handle: str | None = None
    name: str | None = None
    weight: float = 0.0
    interactions: dict[str, float] = Field(default_factory=dict, description="count per engagement type")


class Influence(ApiModel):
    profile_id: str
    algorithm_version: str
    influencers: list[InfluenceLink] = Field(description="who moves this person (they engage with them)")
    influencees: list[InfluenceLink] = Field(description="whom this person moves")


class Compare(ApiModel):
    scores: list[Score]


class SearchHit(ApiModel):
    profile_id: str
    name: str
    score: float | None = None
    network: str | None = Field(default=None, description="the network of the account whose handle matched")
    handle: str | None = Field(default=None, description="the handle that matched `q` exactly")


class SearchResult(ApiModel):
    query: str
    hits: list[SearchHit]


class Leader(ApiModel):
    rank: int
    profile_id: str
    name: str = ""
    topic_score: float
    score: float = 0.0


class Leaders(ApiModel):
    topic: str
    algorithm_version: str
    leaders: list[Leader]


# --- endorsements, perks, opt-out, usage, widget keys ---------------------------------------------


class EndorsementIn(ApiModel):
    """A +K: ``giver_profile_id`` vouches for the profile in ``topic`` (owner token of the giver in
    the ``x-renown-owner-token`` header)."""

    model_config = ConfigDict(extra="forbid")
    giver_profile_id: str = Field(min_length=1, max_length=64)
    topic: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")


class Endorsement(ApiModel):
    profile_id: str
    giver_profile_id: str
    topic: str
    day: str
    weight: float = Field(
        description="the giver's standing when they endorsed: score / 100, x0.25 when reciprocal (in the "
        "model the +K is one `endorsement` engagement, which passes the giver's rank like any other)"
    )
    reciprocal: bool
    remaining_today: int
    network: str = Field(description="the network both are on where the +K counts as an engagement")
    account_id: str = Field(description="the receiver's account it engages")
    giver_account_id: str = Field(description="the giver's account it comes from")


class PerkIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    brand: str = Field(min_length=1, max_length=80)
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=1000)
    # rounded: DynamoDB refuses numbers under 1e-130 ("Number underflow"), and scores have 1 decimal
    min_score: Annotated[float, AfterValidator(lambda v: round(v, 6))] = Field(ge=0, le=100)
    topic: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    expires_at: int = Field(description="Unix seconds; must be in the future")


class Perk(ApiModel):
    perk_id: str
    brand: str
    title: str
    description: str = ""
    min_score: float
    topic: str | None = None
    expires_at: int


class Perks(ApiModel):
    profile_id: str
    score: float
    perks: list[Perk]


class OptOutResult(ApiModel):
    profile_id: str
    erased_items: int
    accounts_opted_out: list[LinkedAccount]


class ProfileExport(ApiModel):
    """Everything stored about a person (the right of access), as the table holds it."""

    profile_id: str
    profile: list[dict[str, Any]] = Field(description="the profile partition: scores, history, links...")
    accounts: list[dict[str, Any]] = Field(description="each linked account's partition")
    received: list[dict[str, Any]] = Field(description="engagement received, per engager")
    given: list[dict[str, Any]] = Field(description="engagement and +K given")


class OptInResult(ApiModel):
    profile_id: str
    markers_removed: int


class UsageDay(ApiModel):
    day: str
    requests: int
    groups: dict[str, int] = Field(default_factory=dict, description="requests per route group (the tag)")


class Usage(ApiModel):
    key_id: str = Field(description="first 12 hex digits of the key's SHA-256")
    daily_quota: int
    days: list[UsageDay]
    owner: str | None = None
    plan: str | None = None
    first_day: str | None = None
    last_day: str | None = None
    total: int = Field(default=0, description="requests over the range")
    groups: dict[str, int] = Field(default_factory=dict, description="requests per route group, whole range")


class WidgetKeyIn(ApiModel):
    """A publishable widget key to create: where it may be used, and for whom."""

    model_config = ConfigDict(extra="forbid")
    origins: list[str] = Field(
        min_length=1, max_length=10, description="allowed page origins, e.g. `https://blog.example`"
    )
    profiles: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]] = Field(
        default_factory=list,
        max_length=100,
        description="the profiles the key may show; empty: every profile",
    )


class WidgetKey(ApiModel):
    """A publishable widget key: public (it goes in pages), owned by the owner of the API key that made
    it; the requests it serves count on that API key's daily usage."""

    key: str = Field(description="`pk_wk_...`: pass it as `?key=` to the widgets")
    key_id: str
    owner: str
    origins: list[str]
    profiles: list[str]
    created_at: int
    revoked_at: int | None = None


class WidgetKeys(ApiModel):
    keys: list[WidgetKey]


class SignedWidgetUrls(ApiModel):
    profile_id: str
    expires_at: int
    badge: str
    card: str


# --- account linking (connect / disconnect) ------------------------------------------------------

EFFECTIVE: Literal["next scoring pass"] = "next scoring pass"


class AccountProof(ApiModel):
    """Proof that the caller owns the network account being connected.

    In production the proof of an account is the network's OAuth (the sign-in flow exchanges an
    authorization code for the account's id and hands out the owner token of the account's profile);
    here the owner token of the account's **current** profile stands for it."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["owner-token"] = Field(
        default="owner-token", description="how ownership is proven (only `owner-token` for now)"
    )
    account_owner_token: str = Field(
        min_length=1, max_length=200, description="owner token of the profile the account is linked to now"
    )


class ConnectAccountIn(ApiModel):
    """Connect (move) a network account to this profile."""

    model_config = ConfigDict(extra="forbid")
    network: Network
    account_id: str = Field(min_length=1, max_length=100)
    proof: AccountProof


class MergedProfile(ApiModel):
    """A profile left without accounts by the move: from now on it answers 308 `profile-merged`."""

    profile_id: str
    merged_into: str


class AccountLinkResult(ApiModel):
    """The outcome of a connect or disconnect. The identity lookup answers the new profile at once;
    scores change at the next scoring pass."""

    action: Literal["connected", "disconnected"]
    changed: bool = Field(description="false when the account was already where it was asked to be")
    network: str
    account_id: str
    handle: str
    profile_id: str = Field(description="the profile of the request path")
    from_profile_id: str = Field(description="the profile the account was linked to before")
    to_profile_id: str = Field(description="the profile the account is linked to now")
    merged: MergedProfile | None = Field(default=None, description="set when the move left a profile empty")
    accounts: list[LinkedAccount] = Field(description="the accounts of `profile_id` after the change")
    effective: Literal["next scoring pass"] = Field(
        default=EFFECTIVE, description="scores and history reflect the change after the next scoring pass"
    )
    score_effect: str = Field(description="what the change does to the scores")
