"""Errors of the OpusDNS adapter, and the translation of HTTP error answers into them (`api_error`);
`retriable` tells the poller whether trying again later can help.

OpusDnsError                      base of every error the client raises
├── OpusDnsTransportError         no HTTP answer at all (connect failure, timeout): retriable
├── OpusDnsPayloadError           a 2xx answer that is not the documented JSON: retriable (the next read may be fine)
└── OpusDnsApiError               an HTTP error answer, with its status and problem+json `code`
    ├── OpusDnsAuthError          401 or 403: wrong credentials or a missing permission: not retriable
    ├── OpusDnsNotFoundError      404 (e.g. ERROR_EVENT_NOT_FOUND): not retriable
    ├── OpusDnsRateLimitedError   429: retriable, after `retry_after_s` when the answer said
    └── OpusDnsServerError        5xx: retriable
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import ValidationError

from regpipe.providers.opusdns.payloads import Problem

__all__ = [
    "OpusDnsApiError",
    "OpusDnsAuthError",
    "OpusDnsError",
    "OpusDnsNotFoundError",
    "OpusDnsPayloadError",
    "OpusDnsRateLimitedError",
    "OpusDnsServerError",
    "OpusDnsTransportError",
    "api_error",
]


class OpusDnsError(Exception):
    """Base of the OpusDNS adapter's errors."""

    retriable: bool = False


class OpusDnsTransportError(OpusDnsError):
    """The request got no HTTP answer (connection refused or reset, timeout)."""

    retriable = True


class OpusDnsPayloadError(OpusDnsError):
    """A successful answer whose body is not the documented JSON (malformed, or the wrong shape)."""

    retriable = True


class OpusDnsApiError(OpusDnsError):
    """An HTTP error answer. `code` is the problem+json `code` (e.g. ERROR_EVENT_NOT_FOUND) when there was one."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        detail: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after_s = retry_after_s


class OpusDnsAuthError(OpusDnsApiError):
    """401 (unknown API key, bad client credentials, expired token) or 403 (the key lacks a permission)."""


class OpusDnsNotFoundError(OpusDnsApiError):
    """404: the event does not exist, or (on acknowledge) is already acknowledged."""


class OpusDnsRateLimitedError(OpusDnsApiError):
    """429: too many requests; wait `retry_after_s` when the answer gave it."""

    retriable = True


class OpusDnsServerError(OpusDnsApiError):
    """5xx: the provider failed; the same request may succeed later."""

    retriable = True


def _retry_after_s(value: str | None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def api_error(response: httpx.Response) -> OpusDnsApiError:
    """Translate an HTTP error answer (read body) into the error of its class, with the problem+json code."""
    problem: Problem | None
    try:
        problem = Problem.model_validate_json(response.content)
    except ValidationError:
        problem = None  # not problem+json (a proxy's HTML page, an empty body): the status alone classifies it
    code = problem.code if problem is not None else None
    detail = problem.detail if problem is not None else None
    status = response.status_code
    message = f"{response.request.method} {response.request.url.path} -> {status}" + (f" {code}" if code else "")
    if detail:
        message += f": {detail}"
    retry_after = _retry_after_s(response.headers.get("retry-after"))
    cls: type[OpusDnsApiError]
    if status in (401, 403):
        cls = OpusDnsAuthError
    elif status == 404:
        cls = OpusDnsNotFoundError
    elif status == 429:
        cls = OpusDnsRateLimitedError
    elif status >= 500:
        cls = OpusDnsServerError
    else:
        cls = OpusDnsApiError
    return cls(message, status=status, code=code, detail=detail, retry_after_s=retry_after)
