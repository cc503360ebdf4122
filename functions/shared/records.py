"""Storage models of the single table: what writers put and readers get (see docs/data-model.md).

(One module over 500 lines on purpose: every item of the single table, beside the key builders of
:mod:`functions.shared.keys`, so the table's whole layout reads in one place.)

These are storage shapes, kept apart from the API's response models. Every record converts to a
DynamoDB item (``to_item``) and back (``from_item``); numbers come back from DynamoDB as
``Decimal`` and are coerced by pydantic.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import override

from functions.shared import keys


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(format(value, ".15g"))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


class Record(BaseModel):
    """An item of the single table: its fields, and the keys it is stored under (:meth:`keys`).

    Floats are stored as ``Decimal`` (15 significant digits) and come back as ``int`` or ``float``.

    Examples
    --------
    >>> item = HistoryPoint(profile_id="p1", day="2025-01-31", score=42.5, algorithm_version="v1").to_item()
    >>> item["PK"], item["SK"], item["score"]
    ('PROFILE#p1', 'HIST#2025-01-31', Decimal('42.5'))
    >>> HistoryPoint.from_item(item).score
    42.5
    """

    model_config = ConfigDict(extra="ignore", frozen=True)
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")

    def keys(self) -> dict[str, str]:
        """The key attributes of the item: ``PK`` and ``SK``, and the GSI keys of the records found
        through a secondary index (every record defines them).
        """
        raise NotImplementedError

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item: the fields that are set, floats as ``Decimal``, and the keys."""
        item = {k: v for k, v in self.model_dump(mode="python").items() if v is not None}
        item = _to_dynamo(item)
        item.update(self.keys())
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Any:
        """The record of a DynamoDB item (key attributes dropped, ``Decimal`` back to numbers)."""
        return cls.model_validate({k: _from_dynamo(v) for k, v in item.items() if k not in cls.KEY_FIELDS})


class ProfileRecord(Record):
    """A person. ``PROFILE#<id> / META``; GSI1 ``NAME#<2 letters>`` for search."""

    profile_id: str
    name: str
    created_at: int
    opted_out: bool = False

    @override
    def keys(self) -> dict[str, str]:
        return {
            "PK": keys.profile_pk(self.profile_id),
            "SK": keys.META_SK,
            "GSI1PK": keys.name_gsi1pk(self.name or self.profile_id),
            "GSI1SK": f"{self.name.lower()}#{self.profile_id}",
        }


class AccountRecord(Record):
    """A network account linked to a profile. ``ACCOUNT#<net>#<id> / META``; GSI1 by handle."""

    network: str
    account_id: str
    profile_id: str
    handle: str
    display_name: str | None = None
    followers: int = 0
    linked_at: int = 0
    created: int | None = None  # when the network says the account was created (unix seconds)

    @override
    def keys(self) -> dict[str, str]:
        return {
            "PK": keys.account_pk(self.network, self.account_id),
            "SK": keys.META_SK,
            "GSI1PK": keys.handle_gsi1pk(self.network, self.handle),
            "GSI1SK": self.account_id,
        }


class LinkRecord(Record):
    """The profile side of a link, so a profile lists its accounts with one Query."""

    profile_id: str
    network: str
    account_id: str
    handle: str

    @override
    def keys(self) -> dict[str, str]:
        return {
            "PK": keys.profile_pk(self.profile_id),
            "SK": keys.linked_account_sk(self.network, self.account_id),
        }


class ScoreRecord(Record):
    """A profile's score under one version. The active one is ``PROFILE#<id> / SCORE`` (one GetItem
    per lookup); every version also keeps ``SCORE#<version>``; GSI1 orders leaders per topic.
    """

    profile_id: str
    name: str = ""
    score: float = Field(ge=0, le=100)
    raw: float = 0.0
    bucket: str = ""
    algorithm_version: str
    computed_at: int
    day_change: float = 0.0
    week_change: float = 0.0
    month_change: float = 0.0
    networks: dict[str, float] = Field(default_factory=dict)  # per-network sub-scores (1-100)
    signals: dict[str, float] = Field(default_factory=dict)  # reach, amplification, network_impact
    topics: list[dict[str, Any]] = Field(default_factory=list)  # [{"slug", "name", "score"}], top first
    style: dict[str, Any] = Field(default_factory=dict)  # {"name", "axes": {...}}
    trend: list[tuple[str, float]] = Field(default_factory=list)  # last 31 daily (day, score), oldest first
    active: bool = True
    provisional: bool = False  # written by the score updater between full passes (the next pass settles it)

    @override
    def keys(self) -> dict[str, str]:
        sk = keys.SCORE_SK if self.active else keys.score_sk(self.algorithm_version)
        return {"PK": keys.profile_pk(self.profile_id), "SK": sk}


class HistoryPoint(Record):
    """One daily point of a profile's score; ``version_changed`` marks an algorithm release."""

    profile_id: str
    day: str  # YYYY-MM-DD
    score: float
    algorithm_version: str
    version_changed: bool = False

    @override
    def keys(self) -> dict[str, str]:
        return {"PK": keys.profile_pk(self.profile_id), "SK": keys.history_sk(self.day)}


class ExplainRecord(Record):
    """The contributions that add up to a profile's score under one version (core.explain)."""

    profile_id: str
    algorithm_version: str
    explanation: dict[str, Any]

    @override
    def keys(self) -> dict[str, str]:
        return {"PK": keys.profile_pk(self.profile_id), "SK": keys.explain_sk(self.algorithm_version)}


class EdgeRecord(Record):
    """Engagement received by ``author`` from ``engager`` on one network, aggregated with ADD.

    ``counts`` holds one counter per engagement type; ``decayed`` holds, per type,
    sum(2 ** ((t_i - DECAY_EPOCH) / DECAY_HALF_LIFE_S)) so that exponential decay stays an ADD.
    ``terms`` holds topic evidence: per term (hashtag, keyword, link domain), the engagements of this
    engager with the author's posts that carried it.
    In the item the maps are flattened to top-level ``c_<type>``, ``d_<type>`` and ``t_<term>``
    attributes, because DynamoDB cannot ``ADD`` into a map attribute that does not exist yet.
    """

    network: str
    author_id: str
    engager_id: str
    counts: dict[str, int] = Field(default_factory=dict)
    decayed: dict[str, float] = Field(default_factory=dict)
    terms: dict[str, int] = Field(default_factory=dict)
    first_ts: int = 0
    last_ts: int = 0

    @override
    def keys(self) -> dict[str, str]:
        pk = keys.edges_pk(self.network, self.author_id)
        return {
            "PK": pk,
            "SK": keys.engager_sk(self.network, self.engager_id),
            "GSI2PK": keys.gave_gsi2pk(self.network, self.engager_id),
            "GSI2SK": pk,
        }

    @override
    def to_item(self) -> dict[str, Any]:
        item = super().to_item()
        for name, value in item.pop("counts", {}).items():
            item[f"c_{name}"] = value
        for name, value in item.pop("decayed", {}).items():
            item[f"d_{name}"] = value
        for name, value in item.pop("terms", {}).items():
            item[f"t_{name}"] = value
        return item

    @classmethod
    @override
    def from_item(cls, item: dict[str, Any]) -> Any:
        plain = {k: v for k, v in item.items() if not k.startswith(("c_", "d_", "t_"))}
        plain["counts"] = {k[2:]: v for k, v in item.items() if k.startswith("c_")}
        plain["decayed"] = {k[2:]: v for k, v in item.items() if k.startswith("d_")}
        plain["terms"] = {k[2:]: v for k, v in item.items() if k.startswith("t_")}
        return super().from_item(plain)


class ActivityRecord(Record):
    """One normalised activity (post or engagement) kept for the activity window (TTL)."""

    network: str
    account_id: str  # the actor
    activity_id: str
    kind: str  # post | like | share | mention | reply | quote | follow | endorsement | view
    timestamp: int
    target_account_id: str | None = None  # the author engaged with, for engagements
    post_id: str | None = None
    terms: list[str] = Field(default_factory=list)  # hashtags, keywords, link domains
    expires_at: int

    @override
    def keys(self) -> dict[str, str]:
        return {
            "PK": keys.account_pk(self.network, self.account_id),
            "SK": keys.activity_sk(self.timestamp, self.activity_id),
        }


class TopicEvidenceRecord(Record):
    """What an account is engaged about: per term, posts carrying it and engagements they got (ADD)."""

    network: str
    account_id: str
    term: str
    posts: int = 0
    engagements: int = 0

    @override
    def keys(self) -> dict[str, str]:
        return {"PK": keys.account_pk(self.network, self.account_id), "SK": f"TERM#{self.term}"}


class CountersRecord(Record):
    """Per-account counters: posts seen, engagements given and received (ADD)."""

    network: str
    account_id: str
    posts: int = 0
    given: int = 0
    received: int = 0
    followers: int = 0

    @override
    def keys(self) -> dict[str, str]:
        return {"PK": keys.account_pk(self.network, self.account_id), "SK": keys.COUNTERS_SK}


class VersionRecord(Record):
    """An algorithm version known to the service, with its calibration table and status."""

    version: str
    status: str  # shadow | active | retired | failed
    params_digest: str = ""
    calibration: dict[str, Any] = Field(default_factory=dict)
    # the score of a profile without engagement by followers (``core.integrity.unengaged_table``), for
    # readers without the scoring core; empty for versions before v3
    unengaged: dict[str, list[float]] = Field(default_factory=dict)
    created_at: int = 0
    activated_at: int | None = None
    report_key: str | None = None

    @override
    def keys(self) -> dict[str, str]:
        return {"PK": keys.ALGO_PK, "SK": keys.version_sk(self.version)}


# engagement decay is stored as an ADD-able sum relative to a fixed epoch (see EdgeRecord)
DECAY_EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z
DECAY_HALF_LIFE_S = 30 * 86_400


# --- topics, endorsements, perks, API and widget keys, ownership proofs, WebSub leases, opt-out ---


class TopicLeaderRecord(Record):
    """A profile's standing in one topic under one version; GSI1 ``TOPIC#<version>#<slug>`` ordered by
    ``score_gsi1sk(topic_score, profile_id)`` (read with ``ScanIndexForward=False`` for the leaders).
    Lives in the profile partition, so erasing the partition removes it from every leaderboard.
    """

    profile_id: str
    topic: str
    algorithm_version: str
    topic_score: float
    name: str = ""
    score: float = 0.0  # the profile's overall score when written

    @override
    def keys(self) -> dict[str, str]:
        return {
            "PK": keys.profile_pk(self.profile_id),
            "SK": keys.topic_leader_sk(self.algorithm_version, self.topic),
            "GSI1PK": keys.topic_gsi1pk(self.topic, self.algorithm_version),
            "GSI1SK": keys.score_gsi1sk(self.topic_score, self.profile_id),
        }


class EndorsementRecord(Record):
    """One +K given by ``giver`` to ``profile_id`` in ``topic`` on ``day`` (one per giver, topic, day).

    It counts as an ``endorsement`` engagement of the giver's account ``giver_account_id`` with the
    receiver's ``account_id`` on ``network`` (``EDGES#<network>#<account_id> / FROM#<network>#<giver
    account>``); records written before that have no network (their ``EDGES#renown#`` items are not
    scored).
    """

    profile_id: str
    giver_profile_id: str
    topic: str
    day: str
    weight: float
    reciprocal: bool = False
    created_at: int = 0
    network: str = ""
    account_id: str = ""
    giver_account_id: str = ""

    @override
    def keys(self) -> dict[str, str]:
        pk = keys.profile_pk(self.profile_id)
        return {
            "PK": pk,
            "SK": keys.endorsement_sk(self.giver_profile_id, self.topic, self.day),
            "GSI2PK": keys.gave_gsi2pk("renown", self.giver_profile_id),
            "GSI2SK": pk,
        }


class PerkRecord(Record):
    """A brand's perk: who qualifies (minimum score, optional topic) until ``expires_at``."""

    perk_id: str
    brand: str
    title: str
    description: str = ""
    min_score: float = 0.0
    topic: str | None = None
    expires_at: int
    created_at: int = 0
    created_by: str = ""  # hash prefix of the API key that defined it
    owner: str = ""  # the owner of that API key: the only one who may list, change or delete it
    updated_at: int | None = None

    @override
    def keys(self) -> dict[str, str]:
        out = {
            "PK": keys.perk_pk(self.perk_id),
            "SK": keys.META_SK,
            "GSI1PK": keys.PERKS_GSI1PK,
            "GSI1SK": keys.perk_gsi1sk(self.expires_at, self.perk_id),
        }
        if self.owner:  # an owner's perks: GSI2 ``PERKSOF#<owner>``
            out |= {"GSI2PK": f"PERKSOF#{self.owner}", "GSI2SK": keys.perk_pk(self.perk_id)}
        return out


class PerkClaimRecord(Record):
    """A person's claim of a perk: ``PERK#<id> / CLAIMED#<profile>`` (one per profile). GSI2 is what
    the person gave (``GAVE#renown#<profile>``), so opt-out erases and export shows it.
    """

    perk_id: str
    profile_id: str
    claimed_at: int
    score: float  # the score the claim was granted on

    @override
    def keys(self) -> dict[str, str]:
        pk = keys.perk_pk(self.perk_id)
        return {
            "PK": pk,
            "SK": keys.perk_claim_sk(self.profile_id),
            "GSI2PK": keys.gave_gsi2pk("renown", self.profile_id),
            "GSI2SK": pk,
        }


class OwnershipChallengeRecord(Record):
    """A one-time code that proves a person owns a network account once that account posts it
    (``PROOF#<challenge id> / META``, with a TTL). ``status``: pending -> verified (ingest saw the code
    posted from the account) -> redeemed (an owner token was issued, once).
    """

    challenge_id: str
    network: str
    account_id: str
    secret_hash: str  # SHA-256 of the secret the requester exchanges for the owner token
    status: str = "pending"
    link_profile_id: str | None = None  # link the account to this profile when proven
    created_at: int
    code_expires_at: int  # the code must be posted before this time
    expires_at: int  # TTL of the item: the token must be fetched before this time
    verified_at: int | None = None
    other_account_posts: int = 0  # the code was seen posted from another account

    @override
    def keys(self) -> dict[str, str]:
        return {"PK": keys.proof_pk(self.challenge_id), "SK": keys.META_SK}


class ApiKeyRecord(Record):
    """An API key known to the service, stored by the SHA-256 of the key (never the key itself)."""

    key_hash: str
    owner: str = ""
    daily_quota: int | None = None  # None: the service default (settings.daily_quota)
    created_at: int = 0
    revoked: bool = False
    # self-service keys (``renown keys``, the admin API); absent on keys written by hand
    plan: str | None = None  # usage plan name (free, pro): API Gateway's plan, quota copied above
    roles: list[str] = Field(default_factory=list)  # e.g. ["brand"]: may publish perks
    prefix: str = ""  # the first characters of the key (rk_live_Ab12), to recognise it in lists
    gateway_key_id: str | None = None  # the key's id in API Gateway
    revoked_at: int | None = None
    replaced_by: str | None = None  # key id of the key that a rotation made

    @property
    def key_id(self) -> str:
        """The public id of the key: the first 12 hex digits of its SHA-256."""
        return self.key_hash[:12]

    @property
    def test_mode(self) -> bool:
        """Test keys (``rk_test_``) are metered like live keys but never billed."""
        return self.prefix.startswith("rk_test_")

    @override
    def keys(self) -> dict[str, str]:
        out = {"PK": keys.apikey_pk(self.key_hash), "SK": keys.META_SK}
        if self.plan is not None:  # registered through the admin API: listed per owner, found by id
            out |= {
                "GSI1PK": keys.APIKEYS_GSI1PK,
                "GSI1SK": keys.apikey_gsi1sk(self.owner, self.created_at, self.key_id),
                "GSI2PK": keys.keyid_gsi2pk(self.key_id),
                "GSI2SK": keys.apikey_pk(self.key_hash),
            }
        return out


class WidgetKeyRecord(Record):
    """A publishable widget key: ``WIDGETKEY#<key_id> / META``; GSI1 ``WIDGETKEYS#<owner>`` by creation.

    It belongs to ``owner`` (the owner of the API key that created it); the requests it serves are
    counted on that API key's daily usage (``owner_key_hash``) and against its quota. It works on pages of
    ``origins`` only and, when ``profiles`` is not empty, for those profiles only.
    """

    key_id: str
    owner: str
    owner_key_hash: str
    origins: list[str]
    profiles: list[str] = Field(default_factory=list)  # empty: every profile
    created_at: int = 0
    revoked_at: int | None = None

    @override
    def keys(self) -> dict[str, str]:
        return {
            "PK": keys.widget_key_pk(self.key_id),
            "SK": keys.META_SK,
            "GSI1PK": keys.widget_keys_gsi1pk(self.owner),
            "GSI1SK": f"{self.created_at:012d}#{self.key_id}",
        }


class WebSubLeaseRecord(Record):
    """The subscription of one WebSub topic (a YouTube channel feed): ``WEBSUB#<sha256(topic)> / LEASE``.

    ``pending_mode`` is what the service last asked the hub (subscribe or unsubscribe), valid for a
    verification until ``pending_until``; the hub's verification request is confirmed only when it
    matches. ``lease_expires_at`` is set when a subscription is confirmed (0 while there is none); GSI1
    ``WEBSUB`` orders the leases by their end, so those to renew are one Query.
    """

    topic: str
    callback: str = ""
    pending_mode: str = ""  # subscribe | unsubscribe | "" (nothing asked)
    pending_until: int = 0
    requested_at: int = 0
    subscribed: bool = False
    confirmed_at: int = 0
    lease_expires_at: int = 0

    @override
    def keys(self) -> dict[str, str]:
        pk = keys.websub_pk(self.topic)
        return {
            "PK": pk,
            "SK": keys.LEASE_SK,
            "GSI1PK": keys.WEBSUB_GSI1PK,
            "GSI1SK": f"{self.lease_expires_at:012d}#{pk}",
        }


class OptOutRecord(Record):
    """Marker of an account whose owner opted out: every writer drops what names it.

    Only the hashed key is stored (``keys.optout_pk``), never the account or profile id: build it with
    ``OptOutRecord.of(network, account_id, now)``.
    """

    marker: str  # keys.optout_pk(network, account_id)
    opted_out_at: int
    profile_key: str = ""  # keys.optedout_gsi2pk(profile_id): opting back in finds the markers

    @classmethod
    def of(cls, network: str, account_id: str, opted_out_at: int, profile_id: str = "") -> OptOutRecord:
        """The marker of ``network``/``account_id`` (and, given ``profile_id``, its keyed profile hash)."""
        profile_key = keys.optedout_gsi2pk(profile_id) if profile_id else ""
        return cls(
            marker=keys.optout_pk(network, account_id), opted_out_at=opted_out_at, profile_key=profile_key
        )

    @override
    def keys(self) -> dict[str, str]:
        out = {"PK": self.marker, "SK": keys.META_SK}
        if self.profile_key:
            out |= {"GSI2PK": self.profile_key, "GSI2SK": self.marker}
        return out


# --- rescoring runs, releases and shift reports ----------------------------------------------------


class RunRecord(Record):
    """One execution of the rescoring workflow: ``ALGO / RUN#<run_id>``.

    ``status``: running | awaiting_approval | succeeded | skipped | failed. ``step`` and ``progress``
    change while it runs (``renown release --status`` shows them); ``error``/``cause`` are set on failure.
    """

    run_id: str
    version: str
    mode: str
    status: str
    params_digest: str = ""
    previous_version: str | None = None
    step: str = ""
    progress: str = ""
    solver: str = ""
    partitions: int = 0
    started_at: int = 0
    finished_at: int | None = None
    error: str | None = None
    cause: str | None = None
    activated: bool = False
    report_key: str | None = None
    summary: dict[str, Any] = Field(default_factory=dict)

    @override
    def keys(self) -> dict[str, str]:
        return {"PK": keys.ALGO_PK, "SK": keys.run_sk(self.run_id)}


class ReleaseRecord(Record):
    """``ALGO / RELEASE#<version>#<digest>``: running | succeeded | failed, and by which run."""

    version: str
    params_digest: str
    status: str
    run_id: str
    updated_at: int = 0

    @override
    def keys(self) -> dict[str, str]:
        return {"PK": keys.ALGO_PK, "SK": keys.release_sk(self.version, self.params_digest)}


class ShiftReportRecord(Record):
    """``ALGO / REPORT#<version>``: the shift report of the version's latest run (the full JSON is also
    in S3 at ``report_key``, its PNG histogram at ``plot_key``).
    """

    version: str
    run_id: str
    against: str | None = None  # the version active when the run started
    created_at: int = 0
    report_key: str = ""
    plot_key: str = ""
    report: dict[str, Any] = Field(default_factory=dict)

    @override
    def keys(self) -> dict[str, str]:
        return {"PK": keys.ALGO_PK, "SK": keys.report_sk(self.version)}
