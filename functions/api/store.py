"""Data access of the public API: every read and write on the single table, through boto3.

(One module over 500 lines on purpose: every access pattern of the API, listed here, beside the code
that runs it, behind the one :class:`ApiTable` protocol that :mod:`functions.api.service` is written
against.)

Access patterns (see ``docs/api.md``):

- a score: one ``GetItem`` on ``PROFILE#<id> / SCORE`` (or ``SCORE#<version>``), served only when it
  is of the active version (``ALGO / ACTIVE``, cached ``VERSION_TTL_S``); otherwise one more
  ``GetItem`` on ``SCORE#<active>`` (a release rolled back, or a refresh not done yet);
- a profile page: one ``Query`` on ``PROFILE#<id>`` with ``SK BETWEEN "LINK#" AND "SCORE"`` (links,
  META and the active score come back together);
- history: one ``Query`` over ``HIST#<from>..HIST#<to>``;
- identity: ``GSI1`` ``HANDLE#<net>#<handle>``, or ``GetItem`` on ``ACCOUNT#<net>#<id> / META``;
- search: ``GSI1`` ``NAME#<2 letters>`` with ``begins_with(GSI1SK, q)``; leaders: ``GSI1``
  ``TOPIC#<version>#<slug>`` newest-highest first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from botocore.exceptions import ClientError

from functions.shared import keys
from functions.shared.records import (
    DECAY_EPOCH,
    DECAY_HALF_LIFE_S,
    AccountRecord,
    ApiKeyRecord,
    EndorsementRecord,
    ExplainRecord,
    HistoryPoint,
    LinkRecord,
    OptOutRecord,
    PerkRecord,
    ProfileRecord,
    ScoreRecord,
    TopicLeaderRecord,
    WidgetKeyRecord,
)
from functions.shared.settings import get_settings

#: the network of +K edges written before endorsements became engagements between accounts (their
#: ``EDGES#renown#<profile>`` items are no longer scored; erasure still removes them)
ENDORSEMENT_NETWORK = "renown"
#: How long a process trusts its cached active version (seconds): the longest a switch or a rollback
#: takes to reach every reader.
VERSION_TTL_S = 5.0


class LinkConflict(Exception):  # noqa: N818
    """A connect/disconnect transaction that the table refused because the account or one of the two
    profiles changed since they were read (a concurrent move): answered 409 ``link-conflict``."""


@dataclass(frozen=True)
class ProfileState:
    """What a connect/disconnect needs of a profile: META (``None`` when absent), the merge marker,
    the optimistic-locking revision of its links (``link_rev``, 0 when never linked through the API)
    and its links."""

    profile_id: str
    profile: ProfileRecord | None
    merged_into: str | None = None
    link_rev: int = 0
    links: tuple[LinkRecord, ...] = ()

    def without(self, network: str, account_id: str) -> list[LinkRecord]:
        """The links other than ``(network, account_id)``."""
        return [lk for lk in self.links if (lk.network, lk.account_id) != (network, account_id)]


class EndorsementRejected(Exception):  # noqa: N818
    """An endorsement that the table refused: ``reason`` is ``duplicate`` or ``daily-limit``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def to_attr(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value (like boto3's ``TypeSerializer``, without
    importing boto3: the API creates its client with botocore alone to keep cold starts short).

    Examples
    --------
    >>> to_attr({"a": [1, 0.5, "x", True, None]})
    {'M': {'a': {'L': [{'N': '1'}, {'N': '0.5'}, {'S': 'x'}, {'BOOL': True}, {'NULL': True}]}}}
    """
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB cannot store {value}")
        return {"N": format(value, ".15g")}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, dict):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attr(v) for v in value]}
    if isinstance(value, set | frozenset):
        if all(isinstance(v, str) for v in value):
            return {"SS": sorted(value)}
        return {"NS": sorted(str(v) for v in value)}
    raise TypeError(f"cannot store {type(value).__name__}")


def from_attr(attr: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as Python (numbers as ``Decimal``, like boto3).

    Examples
    --------
    >>> from_attr({"M": {"n": {"N": "2.5"}, "l": {"L": [{"S": "x"}]}}})
    {'n': Decimal('2.5'), 'l': ['x']}
    """
    ((kind, value),) = attr.items()
    if kind == "S" or kind == "B":
        return value
    if kind == "N":
        return Decimal(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "SS" or kind == "BS":
        return set(value)
    if kind == "NS":
        return {Decimal(v) for v in value}
    raise TypeError(f"unknown DynamoDB type {kind}")


def _ser(item: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in item.items()}


def _des(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}


def dynamodb_client() -> Any:
    """A DynamoDB client made with botocore only (the API needs no boto3), configured like
    ``functions.shared.aws`` (region, ``RENOWN_AWS_ENDPOINT_URL``, retries).

    Examples
    --------
    >>> dynamodb_client().meta.service_model.service_name
    'dynamodb'
    """
    import botocore.session
    from botocore.config import Config

    settings = get_settings()
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=10)
    session = botocore.session.get_session()
    return session.create_client(
        "dynamodb", region_name=settings.region, endpoint_url=settings.aws_endpoint_url, config=config
    )


class ApiTable(Protocol):
    """What the routers need from storage (``DynamoApiTable`` in production and tests)."""

    def ping(self) -> str | None: ...
    def active_version(self) -> str | None: ...
    def unengaged_table(self, version: str) -> dict[str, list[float]]: ...
    def get_score(self, profile_id: str, version: str | None = None) -> ScoreRecord | None: ...
    def get_scores(self, profile_ids: list[str]) -> dict[str, ScoreRecord]: ...
    def get_profile(self, profile_id: str) -> ProfileRecord | None: ...
    def get_profile_view(
        self, profile_id: str
    ) -> tuple[ProfileRecord | None, list[LinkRecord], ScoreRecord | None]: ...
    def account_by_handle(self, network: str, handle: str) -> AccountRecord | None: ...
    def account_by_id(self, network: str, account_id: str) -> AccountRecord | None: ...
    def get_explain(self, profile_id: str, version: str) -> ExplainRecord | None: ...
    def history(self, profile_id: str, first_day: str, last_day: str) -> list[HistoryPoint]: ...
    def search_profiles(self, query: str, limit: int) -> list[ProfileRecord]: ...
    def topic_leaders(self, topic: str, version: str, limit: int) -> list[TopicLeaderRecord]: ...
    def opted_out(self, accounts: Iterable[tuple[str, str]]) -> set[tuple[str, str]]: ...
    def endorsed_by(self, profile_id: str, giver_profile_id: str, first_day: str) -> bool: ...
    def add_endorsement(self, rec: EndorsementRecord, daily_limit: int, now: int) -> int: ...
    def put_perk(self, rec: PerkRecord) -> None: ...
    def live_perks(self, now: int) -> list[PerkRecord]: ...
    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None: ...
    def meter(self, key_hash: str, day: str, group: str | None = None) -> int: ...
    def usage(self, key_hash: str, first_day: str, last_day: str) -> dict[str, int]: ...
    def erase_profile(self, profile_id: str, now: int) -> tuple[int, list[LinkRecord]]: ...
    def put_widget_key(self, rec: WidgetKeyRecord) -> None: ...
    def get_widget_key(self, key_id: str) -> WidgetKeyRecord | None: ...
    def widget_keys_of(self, owner: str) -> list[WidgetKeyRecord]: ...
    def revoke_widget_key(self, key_id: str, owner: str, now: int) -> WidgetKeyRecord | None: ...
    def export_profile(self, profile_id: str) -> dict[str, list[dict[str, Any]]]: ...
    def opt_in(self, profile_id: str) -> int: ...
    def merged_into(self, profile_id: str) -> str | None: ...
    def profile_state(self, profile_id: str) -> ProfileState: ...
    def move_account(
        self,
        account: AccountRecord,
        source: ProfileState,
        target: ProfileState,
        now: int,
        *,
        merge_source: bool,
        create_target: bool = False,
    ) -> None: ...
    def drop_derived(self, profile_id: str) -> int: ...


class DynamoApiTable:
    """``ApiTable`` over the single DynamoDB table with the low-level client (no resource layer: faster).

    Parameters
    ----------
    client
        A boto3 DynamoDB client; default: the shared one (``functions.shared.aws``).
    table_name
        Default: ``settings.table_name``.
    version_ttl_s
        How long the active algorithm version (``ALGO / ACTIVE``) is cached in the process: at most
        this many seconds after a switch or a rollback, a reader may still pick the version before it.
        Score reads serve only the active version: a ``SCORE`` item of another version (a release
        rolled back, or one whose refresh has not reached the item yet) is replaced by
        ``SCORE#<active>``, or by "not scored yet" when the profile has none.

    Examples
    --------
    >>> store = DynamoApiTable(client=object(), table_name="renown")  # doctest: +SKIP
    >>> store.get_score("p1")  # doctest: +SKIP
    """

    def __init__(
        self, client: Any = None, table_name: str | None = None, version_ttl_s: float = VERSION_TTL_S
    ) -> None:
        if table_name is None:
            table_name = get_settings().table_name
        self._client = client
        self.table_name = table_name
        self.version_ttl_s = version_ttl_s
        self._version: tuple[float, str | None] | None = None
        self._unengaged: dict[str, tuple[float, dict[str, list[float]]]] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = dynamodb_client()
        return self._client

    # --- primitives -----------------------------------------------------------------------------
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        out = self.client.get_item(TableName=self.table_name, Key=_ser({"PK": pk, "SK": sk}))
        item = out.get("Item")
        return _des(item) if item else None

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs["TableName"] = self.table_name
        limit = kwargs.get("Limit")
        seen = 0
        while True:
            out = self.client.query(**kwargs)
            for item in out.get("Items", []):
                yield _des(item)
                seen += 1
            start = out.get("LastEvaluatedKey")
            if not start or (limit is not None and seen >= limit):
                return
            kwargs["ExclusiveStartKey"] = start

    def _batch_get(self, keys_: list[tuple[str, str]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(keys_))
        for i in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table_name: {"Keys": [_ser({"PK": pk, "SK": sk}) for pk, sk in unique[i : i + 100]]}
            }
            for attempt in range(8):
                out = self.client.batch_get_item(RequestItems=request)
                found.extend(_des(it) for it in out.get("Responses", {}).get(self.table_name, []))
                request = out.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.02 * 2**attempt)
        return found

    def _batch_delete(self, keys_: list[tuple[str, str]]) -> int:
        unique = list(dict.fromkeys(keys_))
        for i in range(0, len(unique), 25):
            writes = [{"DeleteRequest": {"Key": _ser({"PK": pk, "SK": sk})}} for pk, sk in unique[i : i + 25]]
            request: dict[str, Any] = {self.table_name: writes}
            for attempt in range(8):
                out = self.client.batch_write_item(RequestItems=request)
                request = out.get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(0.02 * 2**attempt)
        return len(unique)

    def _partition_keys(self, pk: str) -> list[tuple[str, str]]:
        items = self._query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues=_ser({":pk": pk}),
            ProjectionExpression="PK, SK",
        )
        return [(it["PK"], it["SK"]) for it in items]

    # --- reads ------------------------------------------------------------------------------------
    def ping(self) -> str | None:
        """Read the active version pointer (uncached): raises when the table does not answer."""
        item = self._get(keys.ALGO_PK, keys.ACTIVE_SK)
        version = str(item["version"]) if item and "version" in item else None
        self._version = (time.monotonic(), version)
        return version

    def active_version(self) -> str | None:
        """The active algorithm version (``ALGO / ACTIVE``), cached for ``version_ttl_s``."""
        cached = self._version
        if cached is not None and time.monotonic() - cached[0] < self.version_ttl_s:
            return cached[1]
        return self.ping()

    def unengaged_table(self, version: str) -> dict[str, list[float]]:
        """The score of a profile without engagement by followers, as ``version`` was published with it
        (``VERSION#<version>`` attribute ``unengaged``; empty before v3), cached for ``version_ttl_s``."""
        cached = self._unengaged.get(version)
        if cached is not None and time.monotonic() - cached[0] < self.version_ttl_s:
            return cached[1]
        item = self._get(keys.ALGO_PK, keys.version_sk(version)) or {}
        raw = item.get("unengaged") or {}
        table = {k: [float(x) for x in v] for k, v in raw.items() if k in ("followers", "scores")}
        self._unengaged[version] = (time.monotonic(), table)
        return table

    def get_score(self, profile_id: str, version: str | None = None) -> ScoreRecord | None:
        """The active score (one GetItem), or the score under ``version``."""
        sk = keys.SCORE_SK if version is None else keys.score_sk(version)
        item = self._get(keys.profile_pk(profile_id), sk)
        if item is None:
            return None
        rec: ScoreRecord = ScoreRecord.from_item(item)
        return rec if version is not None else self._served(rec)

    def _served(self, rec: ScoreRecord | None) -> ScoreRecord | None:
        """The active score of ``rec``'s profile: ``rec`` when it is of the active version (or no
        version is active), else ``SCORE#<active>`` served as the active score, else None."""
        if rec is None:
            return None
        active = self.active_version()
        if active is None or rec.algorithm_version == active:
            return rec
        item = self._get(keys.profile_pk(rec.profile_id), keys.score_sk(active))
        return None if item is None else ScoreRecord.from_item(item).model_copy(update={"active": True})

    def get_scores(self, profile_ids: list[str]) -> dict[str, ScoreRecord]:
        """The active scores of several profiles (BatchGetItem; a second one for the profiles whose
        ``SCORE`` item is not of the active version)."""
        items = self._batch_get([(keys.profile_pk(pid), keys.SCORE_SK) for pid in profile_ids])
        recs = {r.profile_id: r for r in (ScoreRecord.from_item(it) for it in items)}
        active = self.active_version()
        stale = [pid for pid, r in recs.items() if active is not None and r.algorithm_version != active]
        if stale and active is not None:
            for pid in stale:
                del recs[pid]
            for it in self._batch_get([(keys.profile_pk(pid), keys.score_sk(active)) for pid in stale]):
                r = ScoreRecord.from_item(it).model_copy(update={"active": True})
                recs[r.profile_id] = r
        return recs

    def get_profile(self, profile_id: str) -> ProfileRecord | None:
        item = self._get(keys.profile_pk(profile_id), keys.META_SK)
        return None if item is None else ProfileRecord.from_item(item)

    def get_profile_view(
        self, profile_id: str
    ) -> tuple[ProfileRecord | None, list[LinkRecord], ScoreRecord | None]:
        """META, links and active score of a profile in one Query (they sort together)."""
        profile: ProfileRecord | None = None
        score: ScoreRecord | None = None
        links: list[LinkRecord] = []
        items = self._query(
            KeyConditionExpression="PK = :pk AND SK BETWEEN :lo AND :hi",
            ExpressionAttributeValues=_ser(
                {":pk": keys.profile_pk(profile_id), ":lo": "LINK#", ":hi": keys.SCORE_SK}
            ),
        )
        for item in items:
            sk = item["SK"]
            if sk == keys.META_SK:
                profile = ProfileRecord.from_item(item)
            elif sk == keys.SCORE_SK:
                score = ScoreRecord.from_item(item)
            elif sk.startswith("LINK#"):
                links.append(LinkRecord.from_item(item))
        return profile, links, self._served(score)

    def account_by_handle(self, network: str, handle: str) -> AccountRecord | None:
        items = self._query(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues=_ser({":pk": keys.handle_gsi1pk(network, handle)}),
            Limit=1,
        )
        for item in items:
            rec: AccountRecord = AccountRecord.from_item(item)
            return rec
        return None

    def account_by_id(self, network: str, account_id: str) -> AccountRecord | None:
        item = self._get(keys.account_pk(network, account_id), keys.META_SK)
        return None if item is None else AccountRecord.from_item(item)

    def get_explain(self, profile_id: str, version: str) -> ExplainRecord | None:
        item = self._get(keys.profile_pk(profile_id), keys.explain_sk(version))
        return None if item is None else ExplainRecord.from_item(item)

    def history(self, profile_id: str, first_day: str, last_day: str) -> list[HistoryPoint]:
        items = self._query(
            KeyConditionExpression="PK = :pk AND SK BETWEEN :lo AND :hi",
            ExpressionAttributeValues=_ser(
                {
                    ":pk": keys.profile_pk(profile_id),
                    ":lo": keys.history_sk(first_day),
                    ":hi": keys.history_sk(last_day),
                }
            ),
        )
        return [HistoryPoint.from_item(it) for it in items]

    def search_profiles(self, query: str, limit: int) -> list[ProfileRecord]:
        q = query.strip().lower()
        items = self._query(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :q)",
            ExpressionAttributeValues=_ser({":pk": keys.name_gsi1pk(q), ":q": q}),
            Limit=limit,
        )
        out = []
        for item in items:
            rec = ProfileRecord.from_item(item)
            if not rec.opted_out:
                out.append(rec)
            if len(out) >= limit:
                break
        return out

    def topic_leaders(self, topic: str, version: str, limit: int) -> list[TopicLeaderRecord]:
        items = self._query(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues=_ser({":pk": keys.topic_gsi1pk(topic, version)}),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [TopicLeaderRecord.from_item(it) for it in list(items)[:limit]]

    def opted_out(self, accounts: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of ``(network, account_id)`` carry an opt-out marker (one BatchGetItem per 100)."""
        by_marker = {pk: (n, a) for n, a in accounts for pk in keys.optout_pks(n, a)}
        if not by_marker:
            return set()
        found = self._batch_get([(pk, keys.META_SK) for pk in by_marker])
        return {by_marker[it["PK"]] for it in found if it["PK"] in by_marker}

    def endorsed_by(self, profile_id: str, giver_profile_id: str, first_day: str) -> bool:
        """Did ``giver_profile_id`` endorse ``profile_id`` since ``first_day`` (any topic)?"""
        items = self._query(
            KeyConditionExpression="PK = :pk AND SK BETWEEN :lo AND :hi",
            FilterExpression="giver_profile_id = :g",
            ExpressionAttributeValues=_ser(
                {
                    ":pk": keys.profile_pk(profile_id),
                    ":lo": f"ENDORSE#{first_day}",
                    ":hi": "ENDORSE#~",
                    ":g": giver_profile_id,
                }
            ),
            ProjectionExpression="SK",
        )
        return any(True for _ in items)

    # --- writes -----------------------------------------------------------------------------------
    def add_endorsement(self, rec: EndorsementRecord, daily_limit: int, now: int) -> int:
        """Write a +K atomically: the endorsement (one per giver, topic, day: the conditional put makes
        a retry a 409, never a second engagement), the giver's daily counter (at most ``daily_limit``)
        and one ``endorsement`` engagement of the giver's account with the receiver's on their shared
        network, on the edge aggregate ingest writes (``EDGES#<net>#<account> / FROM#<net>#<giver
        account>``: ``ADD c_endorsement 1, d_endorsement 2 ** ((now - DECAY_EPOCH) / half-life)``,
        ``SET updated_at``), which the score updater and the full pass score like any engagement.

        Returns how many endorsements the giver has left today; raises :class:`EndorsementRejected`.
        """
        if not (rec.network and rec.account_id and rec.giver_account_id):
            raise ValueError("an endorsement names the two accounts it joins")
        decayed = math.pow(2.0, (now - DECAY_EPOCH) / DECAY_HALF_LIFE_S)
        edge_key = {
            "PK": keys.edges_pk(rec.network, rec.account_id),
            "SK": keys.engager_sk(rec.network, rec.giver_account_id),
        }
        counter_key = {"PK": keys.profile_pk(rec.giver_profile_id), "SK": keys.endorsements_given_sk(rec.day)}
        items = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _ser(rec.to_item()),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": _ser(counter_key),
                    "UpdateExpression": "ADD given :one SET expires_at = :exp",
                    "ConditionExpression": "attribute_not_exists(given) OR given < :limit",
                    "ExpressionAttributeValues": _ser(
                        {":one": 1, ":limit": daily_limit, ":exp": now + 3 * 86_400}
                    ),
                }
            },
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": _ser(edge_key),
                    "UpdateExpression": (
                        "ADD c_endorsement :one, d_endorsement :d "
                        "SET network = :net, author_id = :a, engager_id = :e, last_ts = :ts, "
                        "first_ts = if_not_exists(first_ts, :ts), updated_at = :ts, "
                        "GSI2PK = :g2pk, GSI2SK = :g2sk"
                    ),
                    "ExpressionAttributeValues": _ser(
                        {
                            ":one": 1,
                            ":d": decayed,
                            ":net": rec.network,
                            ":a": rec.account_id,
                            ":e": rec.giver_account_id,
                            ":ts": now,
                            ":g2pk": keys.gave_gsi2pk(rec.network, rec.giver_account_id),
                            ":g2sk": edge_key["PK"],
                        }
                    ),
                }
            },
        ]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise EndorsementRejected("daily-limit") from None
            raise EndorsementRejected("duplicate") from None
        item = self._get(counter_key["PK"], counter_key["SK"])
        return max(0, daily_limit - int(item["given"])) if item else daily_limit

    def put_perk(self, rec: PerkRecord) -> None:
        self.client.put_item(TableName=self.table_name, Item=_ser(rec.to_item()))

    def live_perks(self, now: int) -> list[PerkRecord]:
        """Perks that have not expired (GSI1 ``PERKS`` ordered by expiry)."""
        items = self._query(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk AND GSI1SK > :now",
            ExpressionAttributeValues=_ser({":pk": keys.PERKS_GSI1PK, ":now": f"{now:012d}"}),
        )
        return [PerkRecord.from_item(it) for it in items]

    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        item = self._get(keys.apikey_pk(key_hash), keys.META_SK)
        return None if item is None else ApiKeyRecord.from_item(item)

    def meter(self, key_hash: str, day: str, group: str | None = None) -> int:
        """Count one request for the key on ``day`` (UpdateItem ADD), and under ``g_<group>`` when a
        route group is given (what ``GET /v1/usage`` and the usage report break down); returns the
        day's count."""
        names = {"#d": "day"}
        expression = "ADD requests :one SET #d = :day"
        if group:
            names["#g"] = f"g_{group}"
            expression = "ADD requests :one, #g :one SET #d = :day"
        out = self.client.update_item(
            TableName=self.table_name,
            Key=_ser({"PK": keys.apikey_pk(key_hash), "SK": keys.usage_sk(day)}),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_ser({":one": 1, ":day": day}),
            ReturnValues="UPDATED_NEW",
        )
        return int(_des(out["Attributes"])["requests"])

    def usage(self, key_hash: str, first_day: str, last_day: str) -> dict[str, int]:
        items = self._query(
            KeyConditionExpression="PK = :pk AND SK BETWEEN :lo AND :hi",
            ExpressionAttributeValues=_ser(
                {
                    ":pk": keys.apikey_pk(key_hash),
                    ":lo": keys.usage_sk(first_day),
                    ":hi": keys.usage_sk(last_day),
                }
            ),
        )
        return {str(it["day"]): int(it["requests"]) for it in items}

    # --- publishable widget keys ------------------------------------------------------------------
    def put_widget_key(self, rec: WidgetKeyRecord) -> None:
        """Store a new widget key (its id is random: a collision is refused, never overwritten)."""
        self.client.put_item(
            TableName=self.table_name,
            Item=_ser(rec.to_item()),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get_widget_key(self, key_id: str) -> WidgetKeyRecord | None:
        item = self._get(keys.widget_key_pk(key_id), keys.META_SK)
        return None if item is None else WidgetKeyRecord.from_item(item)

    def widget_keys_of(self, owner: str) -> list[WidgetKeyRecord]:
        """The widget keys of ``owner``, revoked ones included, oldest first (one GSI1 Query)."""
        items = self._query(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues=_ser({":pk": keys.widget_keys_gsi1pk(owner)}),
        )
        return [WidgetKeyRecord.from_item(it) for it in items]

    def revoke_widget_key(self, key_id: str, owner: str, now: int) -> WidgetKeyRecord | None:
        """Mark a key of ``owner`` revoked (``revoked_at``, kept once set); None when ``owner`` has no
        such key."""
        try:
            out = self.client.update_item(
                TableName=self.table_name,
                Key=_ser({"PK": keys.widget_key_pk(key_id), "SK": keys.META_SK}),
                UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
                ConditionExpression="attribute_exists(PK) AND #o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=_ser({":now": now, ":owner": owner}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return None
        return WidgetKeyRecord.from_item(_des(out["Attributes"]))

    def erase_profile(self, profile_id: str, now: int) -> tuple[int, list[LinkRecord]]:
        """Erase a person. First an opt-out marker per linked account (every writer drops what names a
        marked account from then on), then: their profile partition (scores of every version, history,
        explanations, links, topic leaderboard entries, endorsements received, +K counters), each linked
        account's partitions (account, activities, counters, topic evidence, rank state of every
        version, engagement received), the engagement they gave (GSI2 ``GAVE#``: their ``FROM#`` items
        in other accounts' edges, the +K they gave), their ``renown`` edges, the pair counts naming
        them in their engagers' rank state, and the pull sources' poison lines that name their accounts
        (``DEADLETTER#<source>``). Every item is found by key or index, never by a scan.
        Returns (items erased, links)."""
        pk = keys.profile_pk(profile_id)
        links = [
            LinkRecord.from_item(it)
            for it in self._query(
                KeyConditionExpression="PK = :pk AND begins_with(SK, :l)",
                ExpressionAttributeValues=_ser({":pk": pk, ":l": "LINK#"}),
            )
        ]
        for link in links:  # markers first: ingest stops writing before the erasure runs
            marker = OptOutRecord.of(link.network, link.account_id, now, profile_id)
            self.client.put_item(TableName=self.table_name, Item=_ser(marker.to_item()))
        doomed = self._partition_keys(pk)
        given = [(ENDORSEMENT_NETWORK, profile_id)]
        for link in links:
            received = self._partition_keys(keys.edges_pk(link.network, link.account_id))
            self._forget_pairs(link.network, link.account_id, received)
            doomed += received
            doomed += self._partition_keys(keys.account_pk(link.network, link.account_id))
            given.append((link.network, link.account_id))
        doomed += self._partition_keys(keys.edges_pk(ENDORSEMENT_NETWORK, profile_id))
        for network, giver in given:
            doomed += self._given_keys(network, giver)
        doomed += self._dead_letters_naming(links)
        return self._batch_delete(doomed), links

    def _dead_letters_naming(self, links: list[LinkRecord]) -> list[tuple[str, str]]:
        """Keys of the pull sources' poison lines (``DEADLETTER#<source>``, one Query per source, filtered
        in the table) whose text names one of the accounts: their id or handle (3 characters or more).
        A poison line did not parse, so it is matched as text; erasing one more than needed only drops
        a diagnostic."""
        names = sorted({n for lk in links for n in (lk.account_id, lk.handle) if n and len(n) >= 3})
        if not names:
            return []
        values = {f":n{i}": name for i, name in enumerate(names)}
        condition = " OR ".join(f"contains(#line, {k})" for k in values)
        found: list[tuple[str, str]] = []
        for source in keys.PULL_SOURCES:
            items = self._query(
                KeyConditionExpression="PK = :pk",
                FilterExpression=condition,
                ExpressionAttributeNames={"#line": "line"},
                ExpressionAttributeValues=_ser({":pk": keys.dead_letter_pk(source), **values}),
                ProjectionExpression="PK, SK",
            )
            found += [(it["PK"], it["SK"]) for it in items]
        return found

    def export_profile(self, profile_id: str) -> dict[str, list[dict[str, Any]]]:
        """Everything stored about a person, by partition: their profile partition, each linked
        account's partition and engagement received, and what they gave (GSI2), the same items
        ``erase_profile`` erases."""
        pk = keys.profile_pk(profile_id)

        def items_of(partition: str) -> list[dict[str, Any]]:
            return list(
                self._query(
                    KeyConditionExpression="PK = :pk", ExpressionAttributeValues=_ser({":pk": partition})
                )
            )

        out = {"profile": items_of(pk), "accounts": [], "received": [], "given": []}
        given = [(ENDORSEMENT_NETWORK, profile_id)]
        out["received"] += items_of(keys.edges_pk(ENDORSEMENT_NETWORK, profile_id))
        for item in out["profile"]:
            if item["SK"].startswith("LINK#"):
                link = LinkRecord.from_item(item)
                out["accounts"] += items_of(keys.account_pk(link.network, link.account_id))
                out["received"] += items_of(keys.edges_pk(link.network, link.account_id))
                given.append((link.network, link.account_id))
        for network, giver in given:
            out["given"] += self._batch_get(self._given_keys(network, giver))
        return out

    def opt_in(self, profile_id: str) -> int:
        """Remove the opt-out markers of a profile (found by the keyed hash of its id, GSI2, and by the
        plain hash of old): its accounts are counted again from the next delivery. Returns how many
        markers were removed."""
        found: list[tuple[str, str]] = []
        for gsi2pk in (keys.optedout_gsi2pk(profile_id), keys.legacy_optedout_gsi2pk(profile_id)):
            markers = self._query(
                IndexName="GSI2",
                KeyConditionExpression="GSI2PK = :g",
                ExpressionAttributeValues=_ser({":g": gsi2pk}),
            )
            found += [(it["PK"], it["SK"]) for it in markers]
        return self._batch_delete(found) if found else 0

    def _given_keys(self, network: str, giver: str) -> list[tuple[str, str]]:
        """Keys of what ``giver`` gave (GSI2, keys only): edges where it engaged, +K it gave."""
        items = self._query(
            IndexName="GSI2",
            KeyConditionExpression="GSI2PK = :g",
            ExpressionAttributeValues=_ser({":g": keys.gave_gsi2pk(network, giver)}),
        )
        return [(it["PK"], it["SK"]) for it in items]

    def _forget_pairs(self, network: str, author: str, received: list[tuple[str, str]]) -> None:
        """Remove the ``b_<author>``/``n_<author>`` pair counts the score updater noted in the rank
        state of each engager of ``author`` (every version), found from the author's received edges."""
        prefix = keys.engager_sk(network, "")
        for _, sk in received:
            if not sk.startswith(prefix):
                continue
            engager_pk = keys.account_pk(network, sk[len(prefix) :])
            states = self._query(
                KeyConditionExpression="PK = :pk AND begins_with(SK, :r)",
                ExpressionAttributeValues=_ser({":pk": engager_pk, ":r": "RANK#"}),
                ProjectionExpression="PK, SK",
            )
            for state in states:
                try:
                    self.client.update_item(
                        TableName=self.table_name,
                        Key=_ser({"PK": state["PK"], "SK": state["SK"]}),
                        UpdateExpression="REMOVE #b, #n",
                        ConditionExpression="attribute_exists(PK)",
                        ExpressionAttributeNames={"#b": f"b_{author}", "#n": f"n_{author}"},
                    )
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                        raise

    # --- account linking (connect / disconnect) ---------------------------------------------------
    def merged_into(self, profile_id: str) -> str | None:
        """The profile that ``profile_id`` was merged into (its META's ``merged_into``), if any."""
        out = self.client.get_item(
            TableName=self.table_name,
            Key=_ser({"PK": keys.profile_pk(profile_id), "SK": keys.META_SK}),
            ProjectionExpression="merged_into",
        )
        value = _des(out.get("Item") or {}).get("merged_into")
        return str(value) if value else None

    def profile_state(self, profile_id: str) -> ProfileState:
        """META and links of a profile in one Query (``SK BETWEEN "LINK#" AND "META"``)."""
        meta: dict[str, Any] | None = None
        links: list[LinkRecord] = []
        items = self._query(
            KeyConditionExpression="PK = :pk AND SK BETWEEN :lo AND :hi",
            ExpressionAttributeValues=_ser(
                {":pk": keys.profile_pk(profile_id), ":lo": "LINK#", ":hi": keys.META_SK}
            ),
        )
        for item in items:
            if item["SK"] == keys.META_SK:
                meta = item
            else:
                links.append(LinkRecord.from_item(item))
        if meta is None:
            return ProfileState(profile_id=profile_id, profile=None, links=tuple(links))
        return ProfileState(
            profile_id=profile_id,
            profile=ProfileRecord.from_item(meta),
            merged_into=str(meta["merged_into"]) if meta.get("merged_into") else None,
            link_rev=int(meta.get("link_rev") or 0),
            links=tuple(links),
        )

    def _meta_update(
        self, state: ProfileState, now: int, *, merge_into: str | None = None, unmerge: bool = False
    ) -> dict[str, Any]:
        """The transaction item that bumps a profile's ``link_rev`` (optimistic lock on its links),
        optionally marking it merged (out of name search) or un-merging it (back in name search)."""
        assert state.profile is not None
        values: dict[str, Any] = {":one": 1}
        sets: list[str] = []
        removes: list[str] = []
        if state.link_rev:
            condition = "attribute_exists(PK) AND link_rev = :rev"
            values[":rev"] = state.link_rev
        else:
            condition = "attribute_exists(PK) AND attribute_not_exists(link_rev)"
        if unmerge:
            condition += " AND merged_into = :was"
            values[":was"] = state.merged_into
            index = state.profile.keys()
            sets += ["GSI1PK = :g1", "GSI1SK = :g2"]
            values.update({":g1": index["GSI1PK"], ":g2": index["GSI1SK"]})
            removes += ["merged_into", "merged_at"]
        else:
            condition += " AND attribute_not_exists(merged_into)"
        if merge_into is not None:
            sets += ["merged_into = :into", "merged_at = :now"]
            values.update({":into": merge_into, ":now": now})
            removes += ["GSI1PK", "GSI1SK"]
        expression = "ADD link_rev :one"
        if sets:
            expression += " SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": _ser({"PK": keys.profile_pk(state.profile_id), "SK": keys.META_SK}),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeValues": _ser(values),
            }
        }

    def move_account(
        self,
        account: AccountRecord,
        source: ProfileState,
        target: ProfileState,
        now: int,
        *,
        merge_source: bool,
        create_target: bool = False,
    ) -> None:
        """Move ``account`` from ``source`` to ``target`` in one ``TransactWriteItems``:

        1. ``ACCOUNT#net#id / META``: ``SET profile_id = target``, on condition that it is still
           ``source`` (a concurrent move of the same account fails here);
        2. put ``LINK#net#id`` under the target, delete it under the source;
        3. the source's META: ``ADD link_rev 1`` on condition that ``link_rev`` is what was read (so
           the "no accounts left" decision cannot race with a connect into the source) and, when
           ``merge_source``, ``SET merged_into = target`` and drop it from name search;
        4. the target's META: created (``create_target``, on condition it does not exist), or
           ``ADD link_rev 1`` on condition that ``link_rev`` is what was read and it is not merged
           (or, when it is, un-merged: back in name search).

        Raises :class:`LinkConflict` when any condition fails (409).
        """
        link = LinkRecord(
            profile_id=target.profile_id,
            network=account.network,
            account_id=account.account_id,
            handle=account.handle,
        )
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": _ser(
                        {"PK": keys.account_pk(account.network, account.account_id), "SK": keys.META_SK}
                    ),
                    "UpdateExpression": "SET profile_id = :to, linked_at = :now",
                    "ConditionExpression": "profile_id = :from",
                    "ExpressionAttributeValues": _ser(
                        {":to": target.profile_id, ":from": source.profile_id, ":now": now}
                    ),
                }
            },
            {"Put": {"TableName": self.table_name, "Item": _ser(link.to_item())}},
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": _ser(
                        {
                            "PK": keys.profile_pk(source.profile_id),
                            "SK": keys.linked_account_sk(account.network, account.account_id),
                        }
                    ),
                }
            },
        ]
        if source.profile is not None:
            items.append(
                self._meta_update(source, now, merge_into=target.profile_id if merge_source else None)
            )
        if create_target:
            assert target.profile is not None
            item = target.profile.to_item()
            item["link_rev"] = 1
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": _ser(item),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        else:
            items.append(self._meta_update(target, now, unmerge=target.merged_into is not None))
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            raise LinkConflict(
                ", ".join(str(r.get("Code")) for r in exc.response.get("CancellationReasons", []))
            ) from None

    def drop_derived(self, profile_id: str) -> int:
        """Delete what the scoring side derived for a profile that no longer has accounts (active and
        versioned scores, explanations, topic-leader items, history), so that a merged profile leaves
        the leaderboards and its score lookups fall through to the ``profile-merged`` redirect."""
        doomed = [
            (pk, sk)
            for pk, sk in self._partition_keys(keys.profile_pk(profile_id))
            if sk.startswith(("SCORE", "EXPLAIN#", "TOPIC#", "HIST#"))
        ]
        return self._batch_delete(doomed) if doomed else 0
