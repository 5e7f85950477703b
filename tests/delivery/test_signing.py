"""Signing headers: webhook-id is the event id; every valid secret signs; the reference library verifies."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from regpipe.delivery.signing import SigningSecret, delivery_headers, generate_secret, valid_secrets

_NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_generated_secrets_are_standard_and_distinct() -> None:
    one, two = generate_secret(), generate_secret()
    assert one.startswith("whsec_")
    assert one != two


def test_headers_verify_with_the_reference_library() -> None:
    secret = generate_secret()
    body = b'{"id":"3f0c","type":"domain.expired"}'
    headers = delivery_headers([secret], "3f0c", body, int(time.time()))
    assert headers["webhook-id"] == "3f0c"
    assert headers["content-type"] == "application/json"
    Webhook(secret).verify(body, headers)


def test_overlap_signs_with_both_secrets() -> None:
    old, new = generate_secret(), generate_secret()
    stored = [
        SigningSecret(old, _NOW - timedelta(days=3), expires_at=_NOW + timedelta(hours=1)),
        SigningSecret(new, _NOW),
    ]
    signing = valid_secrets(stored, _NOW)
    assert signing == [new, old]
    body = b"{}"
    headers = delivery_headers(signing, "e1", body, int(time.time()))
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(old).verify(body, headers)  # a subscriber that has not switched yet
    Webhook(new).verify(body, headers)  # one that has


def test_expired_secret_no_longer_signs() -> None:
    old, new = generate_secret(), generate_secret()
    stored = [SigningSecret(old, _NOW - timedelta(days=3), _NOW - timedelta(seconds=1)), SigningSecret(new, _NOW)]
    assert valid_secrets(stored, _NOW) == [new]


def test_secret_is_not_in_repr() -> None:
    secret = generate_secret()
    assert secret not in repr(SigningSecret(secret, _NOW))


def test_no_secret_no_delivery() -> None:
    with pytest.raises(ValueError, match="at least one"):
        delivery_headers([], "e1", b"{}", 0)
