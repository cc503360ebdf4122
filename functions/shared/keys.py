"""Key design of the single Renown table (see ``docs/data-model.md``).

Every item has ``PK`` and ``SK``; items found by a secondary access pattern also carry
``GSI1PK``/``GSI1SK``. Functions build keys only through these helpers so that the layout has
one definition.
"""

from __future__ import annotations

import hashlib
import hmac

from functions.shared.settings import get_settings

# --- partition keys -------------------------------------------------------------------------


def profile_pk(profile_id: str) -> str:
    """Partition of one person: profile, linked accounts, scores, history, explanations."""
    return f"PROFILE#{profile_id}"


def account_pk(network: str, account_id: str) -> str:
    """Partition of one network account: link to its profile, counters, recent activities."""
    return f"ACCOUNT#{network}#{account_id}"


def edges_pk(network: str, author_id: str) -> str:
    """Partition of the engagement received by one account (one item per engager)."""
    return f"EDGES#{network}#{author_id}"


def handle_gsi1pk(network: str, handle: str) -> str:
    """GSI1 key that resolves a handle to its account (identity lookup)."""
    return f"HANDLE#{network}#{handle.lower()}"


def topic_gsi1pk(topic_slug: str, version: str) -> str:
    """GSI1 key of a topic's leaderboard for one algorithm version."""
    return f"TOPIC#{version}#{topic_slug}"


def name_gsi1pk(prefix: str) -> str:
    """GSI1 key for name search: profiles are grouped by the first two letters of their name."""
    return f"NAME#{prefix[:2].lower()}"


#: an account as the functions name it: ``(network, account id)``
AccountKey = tuple[str, str]

ALGO_PK = "ALGO"
ACTIVE_SK = "ACTIVE"

# --- sort keys -------------------------------------------------------------------------------
META_SK = "META"
COUNTERS_SK = "COUNTERS"
SCORE_SK = "SCORE"  # the active score of a profile: one GetItem per lookup


def score_sk(version: str) -> str:
    """Score of a profile under one algorithm version (shadow and past versions)."""
    return f"SCORE#{version}"


def explain_sk(version: str) -> str:
    """Under a profile's partition: the explanation of its score under one version.

    Examples
    --------
    >>> explain_sk("v1")
    'EXPLAIN#v1'
    """
    return f"EXPLAIN#{version}"


def history_sk(day: str) -> str:
    """One daily history point, ``day`` as ``YYYY-MM-DD``."""
    return f"HIST#{day}"


def linked_account_sk(network: str, account_id: str) -> str:
    """Under a profile's partition: one network account linked to the profile.

    Examples
    --------
    >>> linked_account_sk("twitter", "12")
    'LINK#twitter#12'
    """
    return f"LINK#{network}#{account_id}"


def engager_sk(network: str, engager_id: str) -> str:
    """Under ``EDGES#<net>#<author>``: the engagement one engager gave the author (one item a pair).

    Examples
    --------
    >>> engager_sk("twitter", "7")
    'FROM#twitter#7'
    """
    return f"FROM#{network}#{engager_id}"


def activity_sk(timestamp: int, activity_id: str) -> str:
    """Under an account's partition: one recent activity, ordered by time (12-digit unix seconds).

    Examples
    --------
    >>> activity_sk(1700000000, "a1")
    'ACT#001700000000#a1'
    """
    return f"ACT#{timestamp:012d}#{activity_id}"


def version_sk(version: str) -> str:
    """Under ``ALGO``: one algorithm version (its state: shadow, active, retired).

    Examples
    --------
    >>> version_sk("v2")
    'VERSION#v2'
    """
    return f"VERSION#{version}"


def score_gsi1sk(score: float, profile_id: str) -> str:
    """Sortable GSI1 sort key: higher scores sort first with ``ScanIndexForward=False``."""
    return f"{score:07.3f}#{profile_id}"


def _marker_key() -> bytes:
    """The secret of the opt-out marker HMAC (``settings.optout_marker_key``)."""
    return get_settings().optout_marker_key.get_secret_value().encode()


def optout_pk(network: str, account_id: str, secret: bytes | None = None) -> str:
    """Marker of an account whose owner opted out: every writer drops what names it.

    The key holds only a keyed hash of the account, HMAC-SHA256 under ``settings.optout_marker_key``
    (default: that setting): without the key, nobody can test whether a given account opted out.

    Examples
    --------
    >>> optout_pk("twitter", "12", secret=b"k")[:15]
    'OPTOUT#2f497875'
    """
    message = f"optout:{network}:{account_id}".encode()
    return "OPTOUT#" + hmac.new(secret or _marker_key(), message, hashlib.sha256).hexdigest()


def legacy_optout_pk(network: str, account_id: str) -> str:
    """The marker key of old: a plain SHA-256 of the account (markers written before the keyed hash).
    Readers look both up (:func:`optout_pks`); writers write only :func:`optout_pk`.

    Examples
    --------
    >>> legacy_optout_pk("twitter", "12")[:15]
    'OPTOUT#15c572e0'
    """
    digest = hashlib.sha256(f"optout:{network}:{account_id}".encode()).hexdigest()
    return f"OPTOUT#{digest}"


def optout_pks(network: str, account_id: str) -> tuple[str, str]:
    """Every key a marker of the account may have: the keyed one, then the one of old.

    Examples
    --------
    >>> optout_pks("twitter", "12")[1] == legacy_optout_pk("twitter", "12")
    True
    """
    return optout_pk(network, account_id), legacy_optout_pk(network, account_id)


def gave_gsi2pk(network: str, account_id: str) -> str:
    """GSI2 key of everything an account (or, on ``renown``, a profile) gave: the edges where it is the
    engager, the +K it gave (``GSI2SK`` is the item's ``PK``). Erasure finds them without a scan.

    Examples
    --------
    >>> gave_gsi2pk("twitter", "12")
    'GAVE#twitter#12'
    """
    return f"GAVE#{network}#{account_id}"


def optedout_gsi2pk(profile_id: str, secret: bytes | None = None) -> str:
    """GSI2 key of the opt-out markers of one profile (opting back in finds them): a keyed hash of the
    profile id (HMAC-SHA256 under ``settings.optout_marker_key``), never the id itself.

    Examples
    --------
    >>> optedout_gsi2pk("p1", secret=b"k")[:18]
    'OPTEDOUT#5dcf262b7'
    """
    message = f"optout-profile:{profile_id}".encode()
    return "OPTEDOUT#" + hmac.new(secret or _marker_key(), message, hashlib.sha256).hexdigest()


def legacy_optedout_gsi2pk(profile_id: str) -> str:
    """The GSI2 key of old (plain SHA-256): opting in also finds markers written before the keyed hash.

    Examples
    --------
    >>> legacy_optedout_gsi2pk("p1")[:18]
    'OPTEDOUT#29d9de6e6'
    """
    return "OPTEDOUT#" + hashlib.sha256(f"optout-profile:{profile_id}".encode()).hexdigest()


def apikey_pk(key_hash: str) -> str:
    """Partition of one API key (by SHA-256 of the key): metadata and daily usage counters."""
    return f"APIKEY#{key_hash}"


def usage_sk(day: str) -> str:
    """Under an API key's partition: its usage counter of one day (``YYYY-MM-DD``).

    Examples
    --------
    >>> usage_sk("2025-01-31")
    'USAGE#2025-01-31'
    """
    return f"USAGE#{day}"


def widget_key_pk(key_id: str) -> str:
    """Partition of one publishable widget key (the key is public: its id is stored as is).

    Examples
    --------
    >>> widget_key_pk("wk_0a1b")
    'WIDGETKEY#wk_0a1b'
    """
    return f"WIDGETKEY#{key_id}"


def widget_keys_gsi1pk(owner: str) -> str:
    """GSI1 key of the widget keys of one owner (the owner of the API key that created them).

    Examples
    --------
    >>> widget_keys_gsi1pk("acme")
    'WIDGETKEYS#acme'
    """
    return f"WIDGETKEYS#{owner}"


def perk_pk(perk_id: str) -> str:
    """Partition of one perk a brand offers: the perk and the claims of it.

    Examples
    --------
    >>> perk_pk("p1")
    'PERK#p1'
    """
    return f"PERK#{perk_id}"


PERKS_GSI1PK = "PERKS"


def endorsement_sk(giver_profile_id: str, topic_slug: str, day: str) -> str:
    """Under the receiver's profile partition: one +K per giver, topic and day."""
    return f"ENDORSE#{day}#{giver_profile_id}#{topic_slug}"


#: The pull-only sources (no webhooks): each keeps a resume cursor and its poison lines.
PULL_SOURCES: tuple[str, ...] = ("wikipedia", "bluesky")


def dead_letter_pk(source: str) -> str:
    """Partition of a pull source's poison lines (kept so its cursor can move past them; TTL).

    Examples
    --------
    >>> dead_letter_pk("wikipedia")
    'DEADLETTER#wikipedia'
    """
    return f"DEADLETTER#{source}"


def cursor_pk(source: str) -> str:
    """Resume cursor of a pull-only source (Wikimedia EventStreams, Bluesky Jetstream)."""
    return f"CURSOR#{source}"


# --- topics, endorsements and perks ----------------------------------------------------------


def topic_leader_sk(version: str, topic_slug: str) -> str:
    """Under a profile's partition: its standing in one topic for one version (GSI1 leaderboard item).

    Examples
    --------
    >>> topic_leader_sk("v1", "data-science")
    'TOPIC#v1#data-science'
    """
    return f"TOPIC#{version}#{topic_slug}"


def endorsements_given_sk(day: str) -> str:
    """Under the giver's profile partition: how many +K the giver gave on ``day`` (daily limit, ADD).

    Examples
    --------
    >>> endorsements_given_sk("2025-01-31")
    'GIVEN#2025-01-31'
    """
    return f"GIVEN#{day}"


def perk_gsi1sk(expires_at: int, perk_id: str) -> str:
    """GSI1 sort key of a perk under ``PERKS``: ordered by expiry so live perks are one range query.

    Examples
    --------
    >>> perk_gsi1sk(1700000000, "p1")
    '001700000000#p1'
    """
    return f"{expires_at:012d}#{perk_id}"


# --- account linking -----------------------------------------------------------------------------


def home_profile_id(network: str, account_id: str) -> str:
    """The profile id an account gets on first sight (ingest) and gets back when it is disconnected:
    ``p`` + 16 hex digits of ``sha256("<network>:<account id>")`` (same as
    ``functions.ingest.identity.profile_id_for``).

    Examples
    --------
    >>> home_profile_id("twitter", "12")
    'p4566502ab94e4ac0'
    """
    return "p" + hashlib.sha256(f"{network}:{account_id}".encode()).hexdigest()[:16]


# --- rescoring runs, releases and rank state ------------------------------------------------------


def run_sk(run_id: str) -> str:
    """Under ``ALGO``: one rescoring run (status, step, progress, error, report summary).

    Examples
    --------
    >>> run_sk("release-v2-1")
    'RUN#release-v2-1'
    """
    return f"RUN#{run_id}"


def release_sk(version: str, digest: str) -> str:
    """Under ``ALGO``: the claim of one release (version + parameter digest) that makes re-runs idempotent.

    Examples
    --------
    >>> release_sk("v2", "ab12")
    'RELEASE#v2#ab12'
    """
    return f"RELEASE#{version}#{digest}"


def report_sk(version: str) -> str:
    """Under ``ALGO``: the latest shift report of a version against the version active before it.

    Examples
    --------
    >>> report_sk("v2")
    'REPORT#v2'
    """
    return f"REPORT#{version}"


def rank_sk(version: str) -> str:
    """Under ``ACCOUNT#<net>#<id>``: the account's incremental rank state under one version.

    Examples
    --------
    >>> rank_sk("v1")
    'RANK#v1'
    """
    return f"RANK#{version}"


def incr_sk(version: str) -> str:
    """Under ``ALGO``: the population constants the full pass leaves for the score updater.

    Examples
    --------
    >>> incr_sk("v1")
    'INCR#v1'
    """
    return f"INCR#{version}"


# --- WebSub subscriptions (YouTube) ----------------------------------------------------------------


def websub_pk(topic: str) -> str:
    """Partition of the subscription of one WebSub topic (a feed URL, hashed to bound the key).

    Examples
    --------
    >>> websub_pk("https://www.youtube.com/xml/feeds/videos.xml?channel_id=UC1")[:15]
    'WEBSUB#614358a7'
    """
    return "WEBSUB#" + hashlib.sha256(topic.encode()).hexdigest()


LEASE_SK = "LEASE"
#: GSI1 partition of every WebSub lease, ordered by lease end (the leases to renew are one Query).
WEBSUB_GSI1PK = "WEBSUB"


# --- self-service API keys, owner tokens and ownership proofs ------------------------------------

APIKEYS_GSI1PK = "APIKEYS"  # GSI1 partition of every registered API key (by owner, then creation)


def apikey_gsi1sk(owner: str, created_at: int, key_id: str) -> str:
    """GSI1 sort key of an API key under ``APIKEYS``: an owner's keys are one ``begins_with`` range.

    Examples
    --------
    >>> apikey_gsi1sk("acme", 1700000000, "ab12cd34ef56")
    'acme#001700000000#ab12cd34ef56'
    """
    return f"{owner}#{created_at:012d}#{key_id}"


def keyid_gsi2pk(key_id: str) -> str:
    """GSI2 key that finds an API key from its public id (the first 12 hex digits of its hash).

    Examples
    --------
    >>> keyid_gsi2pk("ab12cd34ef56")
    'KEYID#ab12cd34ef56'
    """
    return f"KEYID#{key_id}"


def proof_pk(challenge_id: str) -> str:
    """Partition of one ownership challenge (a one-time code a person posts from their account).

    Examples
    --------
    >>> proof_pk("c1")
    'PROOF#c1'
    """
    return f"PROOF#{challenge_id}"


def owner_tokens_pk(profile_id: str) -> str:
    """Partition of the owner-token revocations of one profile: a hash of the profile id, never the id.

    Examples
    --------
    >>> owner_tokens_pk("p1")[:13]
    'OWNERTOKENS#6'
    """
    return "OWNERTOKENS#" + hashlib.sha256(f"owner-tokens:{profile_id}".encode()).hexdigest()


def revoked_token_sk(token_id: str) -> str:
    """Under ``owner_tokens_pk``: one revoked owner token (kept until the token would have expired)."""
    return f"REVOKED#{token_id}"


NOT_BEFORE_SK = "NOTBEFORE"  # under owner_tokens_pk: tokens issued before this time are revoked


def perk_claim_sk(profile_id: str) -> str:
    """Under ``PERK#<id>``: one person's claim of the perk (at most one per profile).

    Examples
    --------
    >>> perk_claim_sk("p1")
    'CLAIMED#p1'
    """
    return f"CLAIMED#{profile_id}"
