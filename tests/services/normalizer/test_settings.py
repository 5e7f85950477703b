"""The normalizer's settings: read from the documented environment variables, secrets never shown."""

from __future__ import annotations

import pytest

from regpipe.services.normalizer.settings import NormalizerSettings


def test_settings_come_from_the_environment_and_hide_the_seal_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("NORMALIZER_GROUP_ID", "g")
    monkeypatch.setenv("NORMALIZER_INPUT_TOPIC", "in")
    monkeypatch.setenv("NORMALIZER_OUTPUT_TOPIC", "out")
    monkeypatch.setenv("NORMALIZER_QUARANTINE_TOPIC", "q")
    monkeypatch.setenv("NORMALIZER_BATCH_MAX", "50")
    monkeypatch.setenv("RAW_SEAL_KEYS", "k1:c2VjcmV0LWtleS1tYXRlcmlhbA==")
    monkeypatch.setenv("RAW_SEAL_ACTIVE_KEY", "k1")
    monkeypatch.setenv("HEALTH_PORT", "9999")

    settings = NormalizerSettings()

    assert (settings.kafka_bootstrap_servers, settings.normalizer_group_id) == ("broker:9092", "g")
    assert (settings.normalizer_input_topic, settings.normalizer_output_topic) == ("in", "out")
    assert (settings.normalizer_quarantine_topic, settings.normalizer_batch_max) == ("q", 50)
    assert (settings.raw_seal_active_key, settings.health_port) == ("k1", 9999)
    assert settings.raw_seal_keys is not None
    assert settings.raw_seal_keys.get_secret_value() == "k1:c2VjcmV0LWtleS1tYXRlcmlhbA=="
    assert "c2VjcmV0" not in repr(settings)
    assert "c2VjcmV0" not in str(settings.model_dump())


def test_defaults_are_the_registry_topics_and_the_normalizer_group(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "NORMALIZER_GROUP_ID",
        "NORMALIZER_INPUT_TOPIC",
        "NORMALIZER_OUTPUT_TOPIC",
        "NORMALIZER_QUARANTINE_TOPIC",
    ):
        monkeypatch.delenv(name, raising=False)

    settings = NormalizerSettings()

    assert settings.normalizer_group_id == "regpipe-normalizer"
    assert settings.normalizer_input_topic == "registrar.raw.v1"
    assert settings.normalizer_output_topic == "registrar.normalized.v1"
    assert settings.normalizer_quarantine_topic == "registrar.quarantine.v1"
