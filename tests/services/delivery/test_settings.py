"""Delivery settings from the environment: comma-separated lists, a schedule that makes sense, a lease longer than
a request, secrets hidden."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from regpipe.delivery.schedule import DEFAULT_SCHEDULE_S
from regpipe.services.delivery.settings import DeliverySettings

_DSN = "postgresql://regpipe:pw@127.0.0.1:5432/regpipe"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_DSN", _DSN)
    settings = DeliverySettings()
    assert settings.retry_schedule().delays_s == DEFAULT_SCHEDULE_S
    assert settings.delivery_disable_after_s == 5 * 24 * 3600
    assert settings.delivery_allowed_networks == []
    assert settings.health_port == 8088


def test_lists_from_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_DSN", _DSN)
    monkeypatch.setenv("DELIVERY_ALLOWED_NETWORKS", "127.0.0.0/8, ::1/128")
    monkeypatch.setenv("DELIVERY_RETRY_SCHEDULE_S", "0,0.5,2")
    settings = DeliverySettings()
    assert settings.delivery_allowed_networks == ["127.0.0.0/8", "::1/128"]
    assert settings.retry_schedule().delays_s == (0.0, 0.5, 2.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [("DELIVERY_RETRY_SCHEDULE_S", "0,-5"), ("DELIVERY_LEASE_S", "5"), ("DELIVERY_RETRY_JITTER", "1.5")],
)
def test_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv("POSTGRES_DSN", _DSN)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        DeliverySettings()


def test_secrets_do_not_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_DSN", _DSN)
    monkeypatch.setenv("DELIVERY_ADMIN_TOKEN", "very-secret-token")
    printed = repr(DeliverySettings())
    assert "very-secret-token" not in printed
    assert "pw@" not in printed
