"""One delivery attempt: POST the body with its headers, measure it, and describe what came back.

Never raises for what the endpoint or the network did: a timeout, a refused connection or a refused address
become an `AttemptResult` with an error, which the schedule turns into a retry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from regpipe.delivery.errors import BlockedAddressError
from regpipe.delivery.outcome import Classification, classify
from regpipe.delivery.schedule import parse_retry_after

__all__ = ["RESPONSE_BODY_LIMIT", "AttemptResult", "send_attempt"]

#: How much of an answer's body is kept with the attempt (enough to see an error message, not a page).
RESPONSE_BODY_LIMIT = 1024


def _storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL; an endpoint answering with one must not make its attempt unrecordable.
    return text.replace("\x00", "\ufffd")


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt produced."""

    attempted_at: datetime
    latency_ms: float
    status_code: int | None
    error: str | None
    response_body: str | None
    classification: Classification


async def send_attempt(client: httpx.AsyncClient, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult:
    """POST once; the answer's body is read up to `RESPONSE_BODY_LIMIT` bytes."""
    attempted_at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        async with client.stream("POST", url, content=body, headers=dict(headers)) as response:
            kept = bytearray()
            async for chunk in response.aiter_bytes():
                kept += chunk
                if len(kept) >= RESPONSE_BODY_LIMIT:
                    break
            latency_ms = (time.perf_counter() - started) * 1000
            retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
            return AttemptResult(
                attempted_at=attempted_at,
                latency_ms=latency_ms,
                status_code=response.status_code,
                error=None,
                response_body=_storable(bytes(kept[:RESPONSE_BODY_LIMIT]).decode("utf-8", errors="replace")),
                classification=classify(response.status_code, retry_after),
            )
    except BlockedAddressError as exc:
        error = f"blocked_address: {exc}"
    except httpx.TimeoutException as exc:
        error = f"timeout: {type(exc).__name__}"
    except httpx.HTTPError as exc:
        error = _storable(f"{type(exc).__name__}: {exc}"[:500])
    return AttemptResult(
        attempted_at=attempted_at,
        latency_ms=(time.perf_counter() - started) * 1000,
        status_code=None,
        error=error,
        response_body=None,
        classification=classify(None),
    )
