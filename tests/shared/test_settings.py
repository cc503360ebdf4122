"""The settings model: environment names, per-network secrets, and agreement with the core."""

from __future__ import annotations

import pytest

from functions.shared.settings import NETWORKS, Settings


def test_secrets_and_tokens_come_from_renown_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENOWN_SECRET_TWITTER", "tw")
    monkeypatch.setenv("RENOWN_VERIFY_TOKEN_FACEBOOK", "fb-verify")
    monkeypatch.setenv("RENOWN_DEV_API_KEY", "key-1")
    monkeypatch.setenv("PORT", "9001")
    settings = Settings()
    assert settings.webhook_secret("twitter") == b"tw"
    assert settings.verify_token("facebook") == "fb-verify"
    assert settings.verify_token("mastodon") is None  # Mastodon has no handshake
    assert settings.dev_api_key.get_secret_value() == "key-1"
    assert settings.port == 9001
    with pytest.raises(KeyError):
        settings.webhook_secret("myspace")


def test_every_network_has_a_secret_and_settings_agree_with_the_core() -> None:
    from core.types import NETWORKS as CORE_NETWORKS

    settings = Settings()
    assert tuple(NETWORKS) == tuple(CORE_NETWORKS)
    for network in NETWORKS:
        assert settings.webhook_secret(network)


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENOWN_DAILY_QUOTA", "0")
    with pytest.raises(ValueError, match="daily_quota"):
        Settings()
