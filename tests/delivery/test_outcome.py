"""Outcome classification: 2xx delivered, 410 gone, everything else retried (Retry-After on 429/503 only)."""

from __future__ import annotations

import pytest

from regpipe.delivery.outcome import AttemptVerdict, classify


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    assert classify(status).verdict is AttemptVerdict.DELIVERED


def test_410_is_gone() -> None:
    assert classify(410).verdict is AttemptVerdict.GONE


@pytest.mark.parametrize("status", [None, 100, 301, 302, 400, 401, 404, 408, 429, 500, 502, 503, 504])
def test_anything_else_is_retried(status: int | None) -> None:
    assert classify(status).verdict is AttemptVerdict.RETRY


def test_retry_after_only_on_throttling_answers() -> None:
    assert classify(429, 7).retry_after_s == 7
    assert classify(503, 7).retry_after_s == 7
    assert classify(500, 7).retry_after_s is None
