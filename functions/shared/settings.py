"""Settings: one pydantic model read from the environment (prefix ``RENOWN_``).

Development defaults are safe for the local stack only; in AWS every secret comes from
Secrets Manager or SSM through the function's environment (see ``template.yaml``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, get_args

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Network = Literal[
    "twitter",
    "facebook",
    "instagram",
    "linkedin",
    "youtube",
    "mastodon",
    "wikipedia",
    "bluesky",
    "pinterest",
]
# the networks of ``core.types.NETWORKS``, in its order (tests/shared/test_settings.py holds them equal):
# every function but the score updater and the rescoring task runs without the scoring layer (no core)
NETWORKS: tuple[str, ...] = get_args(Network)

_DEV = "dev-only-not-a-secret"


class Settings(BaseSettings):
    """Everything a Renown function or the local stack reads from its environment.

    Examples
    --------
    >>> import os
    >>> os.environ["RENOWN_SECRET_TWITTER"] = "s3cret"
    >>> Settings().webhook_secret("twitter")
    b's3cret'
    >>> del os.environ["RENOWN_SECRET_TWITTER"]
    """

    model_config = SettingsConfigDict(env_prefix="RENOWN_", extra="ignore", case_sensitive=False)

    stage: Literal["local", "dev", "prod"] = "local"
    region: str = Field(default="us-east-1", description="AWS region of the tables and queues")
    aws_endpoint_url: str | None = Field(
        default=None, description="Endpoint of the local AWS stand-in (moto server); None in AWS"
    )

    # resources (names come from the template; locally the stack creates them with these names)
    table_name: str = "renown"
    idempotency_table_name: str = "renown-idempotency"
    ingest_queue_url: str | None = None
    artifacts_bucket: str = "renown-artifacts"
    state_machine_arn: str | None = None

    # webhook signing secrets, one per network (RENOWN_SECRET_<NETWORK>)
    secret_twitter: SecretStr = SecretStr(_DEV + "-twitter")
    secret_facebook: SecretStr = SecretStr(_DEV + "-facebook")
    secret_instagram: SecretStr = SecretStr(_DEV + "-instagram")
    secret_linkedin: SecretStr = SecretStr(_DEV + "-linkedin")
    secret_youtube: SecretStr = SecretStr(_DEV + "-youtube")
    secret_mastodon: SecretStr = SecretStr(_DEV + "-mastodon")
    secret_wikipedia: SecretStr = SecretStr(_DEV + "-wikipedia")
    secret_bluesky: SecretStr = SecretStr(_DEV + "-bluesky")
    secret_pinterest: SecretStr = SecretStr(_DEV + "-pinterest")

    # handshake verify tokens where a network uses one (RENOWN_VERIFY_TOKEN_<NETWORK>)
    verify_token_facebook: SecretStr = SecretStr(_DEV + "-verify-facebook")
    verify_token_instagram: SecretStr = SecretStr(_DEV + "-verify-instagram")
    verify_token_youtube: SecretStr = SecretStr(_DEV + "-verify-youtube")

    # public API
    dev_api_key: SecretStr = SecretStr("renown-dev-key-0000")
    widget_signing_key: SecretStr = SecretStr(_DEV + "-widgets")
    # opt-out markers: the key of the HMAC that names an opted-out account (``keys.optout_pk``)
    optout_marker_key: SecretStr = SecretStr(_DEV + "-optout")
    daily_quota: int = Field(default=10_000, ge=1)
    legacy_widget_keys_sunset: int = Field(
        default=1_811_808_000,  # 2027-06-01T00:00:00Z
        ge=0,
        description="Unix time from which stateless publishable keys (pk_<origins>.<mac>) stop working",
    )
    # self-service keys: the admin credential of the local stack (empty in AWS, where the admin route
    # is IAM-authorised) and the usage plans keys are created in, "name=<plan id or name>,..."
    admin_key: SecretStr = SecretStr("renown-dev-admin-0000")
    usage_plans: str = ""

    # ingest limits
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    max_delivery_age_s: int = Field(default=300, ge=1)
    activity_ttl_days: int = Field(default=90, ge=1)

    # scoring
    algorithm_version: str = "v1"
    snapshot_page_items: int | None = Field(
        default=None,
        ge=1,
        description="Items a page of the full pass's snapshot scan reads (DynamoDB's Limit); None: "
        "DynamoDB's 1 MB pages. The local stack sets 500: its stand-in serves one request at a time, "
        "and a 1 MB page there holds an API lookup for seconds",
    )
    topics_dir: str | None = Field(
        default=None,
        description="Folder of the Klout topic ontology CSVs (default: the datasets folder's klout-topics)",
    )

    # local stack
    host: str = "127.0.0.1"
    port: int = Field(default=8000, validation_alias="PORT")
    moto_port: int = 0
    datasets_dir: str | None = None
    demo_limit: int = Field(default=0, ge=0, description="0 = replay all Higgs edges")

    def webhook_secret(self, network: str) -> bytes:
        """Signing secret of ``network`` as bytes (raises ``KeyError`` for an unknown network)."""
        value: SecretStr | None = getattr(self, f"secret_{network}", None)
        if value is None:
            raise KeyError(network)
        return value.get_secret_value().encode()

    def verify_token(self, network: str) -> str | None:
        """Handshake verify token of ``network``, or None when its handshake uses none."""
        value: SecretStr | None = getattr(self, f"verify_token_{network}", None)
        return None if value is None else value.get_secret_value()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
