"""The OpenSRS poller's settings: read from the environment, validated, secrets hidden."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from regpipe.services.opensrs_poller.settings import OpenSRSPollerSettings

REQUIRED = {
    "OPENSRS_URL": "https://horizon.example:55443",
    "OPENSRS_USERNAME": "reseller1",
    "OPENSRS_API_KEY": "s3cr3t-api-key",
    "POSTGRES_DSN": "postgresql://poller:db-password@db:5432/regpipe",
}


def test_reads_the_environment_with_documented_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENSRS_POLL_LIMIT", "100")
    settings = OpenSRSPollerSettings()
    assert settings.opensrs_username == "reseller1"
    assert settings.opensrs_api_key.get_secret_value() == "s3cr3t-api-key"
    assert settings.opensrs_poll_limit == 100
    assert settings.opensrs_timeout_s == 80.0  # OpenSRS's guide
    assert settings.raw_seal_keys is None
    shown = repr(settings) + str(settings.model_dump())
    assert "s3cr3t-api-key" not in shown
    assert "db-password" not in shown


@pytest.mark.parametrize("limit", ["0", "101", "many"])
def test_poll_limit_must_be_1_to_100(monkeypatch: pytest.MonkeyPatch, limit: str) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENSRS_POLL_LIMIT", limit)
    with pytest.raises(ValidationError):
        OpenSRSPollerSettings()


def test_credentials_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in REQUIRED:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as raised:
        OpenSRSPollerSettings()
    missing = {error["loc"][0] for error in raised.value.errors()}
    assert {"opensrs_url", "opensrs_username", "opensrs_api_key", "postgres_dsn"} <= missing
