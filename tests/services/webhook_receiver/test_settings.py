"""The receiver's settings: read from the environment, secrets kept secret, every registered provider covered."""

from __future__ import annotations

import base64
import os

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from regpipe.services.webhook_receiver.app import create_app
from regpipe.services.webhook_receiver.settings import WebhookReceiverSettings
from regpipe.webhooks.auth import AuthScheme
from regpipe.webhooks.errors import WebhookConfigError
from regpipe.webhooks.registry import WEBHOOK_ADAPTERS

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


def test_reads_the_environment_and_splits_rotating_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("WEBHOOK_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("MOST_AUTH_SCHEME", "header_token")
    monkeypatch.setenv("MOST_WEBHOOK_SECRETS", " tok_old_0123456789abcdef , tok_new_0123456789abcdef ,")
    monkeypatch.setenv("MOST_TOKEN_HEADER", "X-Webhook-Token")
    monkeypatch.setenv("COLDMAIL_ACCOUNT", "reseller-1")
    settings = WebhookReceiverSettings()
    assert settings.kafka_bootstrap_servers == "broker:9092"
    assert settings.webhook_max_body_bytes == 2048
    most = settings.providers()["most"]
    assert most.scheme is AuthScheme.HEADER_TOKEN
    assert most.secrets == ("tok_old_0123456789abcdef", "tok_new_0123456789abcdef")
    assert most.token_header == "X-Webhook-Token"
    assert settings.providers()["coldmail"].account == "reseller-1"
    assert "tok_old" not in repr(settings)


def test_every_registered_provider_has_settings() -> None:
    assert set(WebhookReceiverSettings().providers()) == set(WEBHOOK_ADAPTERS)


def test_sealing_needs_both_keys_and_the_active_key() -> None:
    with pytest.raises(ValidationError):
        WebhookReceiverSettings(raw_seal_keys=f"k1:{base64.b64encode(os.urandom(32)).decode()}")
    with pytest.raises(ValidationError):
        WebhookReceiverSettings(raw_seal_active_key="k1")


def test_max_body_must_fit_a_kafka_record() -> None:
    with pytest.raises(ValidationError):
        WebhookReceiverSettings(webhook_max_body_bytes=2_000_000)


def test_unusable_secrets_stop_the_app_from_being_built() -> None:
    with pytest.raises(WebhookConfigError):
        create_app(WebhookReceiverSettings(most_webhook_secrets="whsec_!!!"))


async def test_a_provider_without_secrets_is_not_served() -> None:
    app = create_app(WebhookReceiverSettings(kafka_bootstrap_servers="127.0.0.1:9", most_webhook_secrets=SECRET))
    assert isinstance(app.rest, FastAPI)
    # The lifespan owns the producer: entering and leaving it closes the producer cleanly.
    transport = httpx.ASGITransport(app=app)
    async with (
        app.rest.router.lifespan_context(app.rest),
        httpx.AsyncClient(transport=transport, base_url="http://receiver") as client,
    ):
        assert (await client.post("/webhooks/coldmail/tok_0123456789abcdef", content=b"{}")).status_code == 404
        assert (await client.post("/webhooks/most", content=b"{}")).status_code == 401
