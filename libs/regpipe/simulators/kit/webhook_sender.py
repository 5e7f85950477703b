"""A webhook sender that behaves like a provider's delivery system, for the push simulators: it signs each
attempt with the configured scheme, retries on a provider-like schedule (scalable, so tests run it in
milliseconds), and misbehaves on demand (duplicates, malformed JSON, bad signatures, slow bodies).

The sender is the provider's side of the at-least-once contract: an event counts as delivered only on a 2xx.
"""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace

import httpx

from regpipe.webhooks.auth import AuthScheme
from regpipe.webhooks.standard_webhooks import SECRET_PREFIX, signature_headers

__all__ = [
    "Attempt",
    "DeliveryOutcome",
    "DeliveryPolicy",
    "Misbehaviour",
    "OutgoingWebhook",
    "RetrySchedule",
    "SenderAuth",
    "WebhookSender",
]

_GONE = 410  # Standard Webhooks: the receiver asks to disable the endpoint, so retrying is pointless


@dataclass(frozen=True, slots=True)
class OutgoingWebhook:
    """One event as a provider sends it: its id (also `webhook-id`, stable across retries), type and exact body."""

    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class SenderAuth:
    """How the sender proves itself: Standard Webhooks signs with every secret (as during a rotation); the token
    schemes send the first secret."""

    scheme: AuthScheme
    secrets: tuple[str, ...]
    token_header: str = "authorization"  # noqa: S105 - a header name, not a secret


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Waits before each retry after the first attempt (seconds, times `scale`); then the delivery has FAILED."""

    delays_s: tuple[float, ...]
    scale: float = 1.0

    def waits(self) -> list[float]:
        """The scaled waits, one per retry."""
        return [delay * self.scale for delay in self.delays_s]

    def scaled(self, scale: float) -> RetrySchedule:
        """The same schedule run `scale` times as fast or slow (e.g. 0.001 in tests)."""
        return replace(self, scale=scale)


@dataclass(frozen=True, slots=True)
class Misbehaviour:
    """Probabilities (0..1) of each misbehaviour per event, drawn from the sender's seeded random generator."""

    duplicate: float = 0.0  # deliver the event once more after it succeeded
    malformed: float = 0.0  # cut the body short (broken JSON, still signed: the provider's bug, not an attacker)
    bad_signature: float = 0.0  # first attempt carries a wrong signature or token; retries are correct
    slow: float = 0.0  # trickle the body in chunks (chunked transfer encoding, no Content-Length)
    slow_chunk_delay_s: float = 0.02


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt: the status, or None and the error when there was no answer."""

    status: int | None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        """True for a 2xx: the receiver took the event."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What happened to one event: the body as actually sent, every attempt, and whether it was delivered."""

    event: OutgoingWebhook
    attempts: tuple[Attempt, ...] = field(default=())
    duplicates_delivered: int = 0

    @property
    def delivered(self) -> bool:
        """True when some attempt got a 2xx."""
        return any(attempt.succeeded for attempt in self.attempts)


class WebhookSender:
    """Delivers events to one receiver URL (`…/webhooks/<provider>`; the path token is appended when used)."""

    def __init__(
        self,
        url: str,
        *,
        auth: SenderAuth,
        schedule: RetrySchedule,
        client: httpx.AsyncClient,
        misbehaviour: Misbehaviour | None = None,
        rng: random.Random | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._url = url.rstrip("/")
        self._auth = auth
        self._schedule = schedule
        self._client = client
        self._misbehaviour = misbehaviour or Misbehaviour()
        self._rng = rng or random.Random(0)
        self._timeout_s = timeout_s

    async def send(self, event: OutgoingWebhook) -> DeliveryOutcome:
        """Deliver `event`, retrying on the schedule until a 2xx, a 410, or the schedule is exhausted."""
        odd = self._misbehaviour
        if self._rng.random() < odd.malformed:
            event = replace(event, body=event.body[: max(1, len(event.body) // 2)])
        forge = self._rng.random() < odd.bad_signature
        slow = self._rng.random() < odd.slow
        duplicate = self._rng.random() < odd.duplicate
        attempts: list[Attempt] = []
        for wait in [0.0, *self._schedule.waits()]:
            await asyncio.sleep(wait)
            attempt = await self._attempt(event, forge=forge, slow=slow)
            attempts.append(attempt)
            forge = False
            if attempt.succeeded or attempt.status == _GONE:
                break
        outcome = DeliveryOutcome(event=event, attempts=tuple(attempts))
        if duplicate and outcome.delivered:
            again = await self._attempt(event, forge=False, slow=False)
            outcome = replace(outcome, duplicates_delivered=int(again.succeeded))
        return outcome

    async def send_all(self, events: Iterable[OutgoingWebhook], *, concurrency: int = 16) -> list[DeliveryOutcome]:
        """Deliver every event, at most `concurrency` at a time; outcomes in the order of `events`."""
        gate = asyncio.Semaphore(concurrency)

        async def one(event: OutgoingWebhook) -> DeliveryOutcome:
            async with gate:
                return await self.send(event)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(event)) for event in events]
        return [task.result() for task in tasks]

    async def _attempt(self, event: OutgoingWebhook, *, forge: bool, slow: bool) -> Attempt:
        url, headers = self._signed(event, self._forged_auth() if forge else self._auth)
        content: bytes | AsyncIterator[bytes] = self._trickle(event.body) if slow else event.body
        try:
            response = await self._client.post(url, content=content, headers=headers, timeout=self._timeout_s)
        except httpx.HTTPError as exc:
            return Attempt(status=None, error=f"{type(exc).__name__}: {exc}")
        return Attempt(status=response.status_code)

    def _signed(self, event: OutgoingWebhook, auth: SenderAuth) -> tuple[str, dict[str, str]]:
        headers = {"content-type": "application/json"}
        url = self._url
        match auth.scheme:
            case AuthScheme.STANDARD_WEBHOOKS:
                headers |= signature_headers(auth.secrets, event.event_id, event.body)
            case AuthScheme.HEADER_TOKEN:
                bearer = auth.token_header.lower() == "authorization"
                headers[auth.token_header] = f"Bearer {auth.secrets[0]}" if bearer else auth.secrets[0]
            case AuthScheme.PATH_TOKEN:
                url = f"{url}/{auth.secrets[0]}"
        return url, headers

    def _forged_auth(self) -> SenderAuth:
        forged = self._rng.randbytes(24)
        secret = (
            SECRET_PREFIX + base64.b64encode(forged).decode()
            if self._auth.scheme is AuthScheme.STANDARD_WEBHOOKS
            else forged.hex()
        )
        return replace(self._auth, secrets=(secret,))

    async def _trickle(self, body: bytes) -> AsyncIterator[bytes]:
        step = max(1, len(body) // 4)
        for start in range(0, len(body), step):
            yield body[start : start + step]
            await asyncio.sleep(self._misbehaviour.slow_chunk_delay_s)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """A provider's delivery system: its retry schedule and how long it waits for an answer."""

    schedule: RetrySchedule
    answer_deadline_s: float

    def create_sender(
        self,
        url: str,
        auth: SenderAuth,
        client: httpx.AsyncClient,
        *,
        time_scale: float = 1.0,
        misbehaviour: Misbehaviour | None = None,
        rng: random.Random | None = None,
    ) -> WebhookSender:
        """A sender to `url` (`…/webhooks/<provider>`) on this schedule, `time_scale` times as long."""
        return WebhookSender(
            url,
            auth=auth,
            schedule=self.schedule.scaled(time_scale),
            client=client,
            misbehaviour=misbehaviour,
            rng=rng,
            timeout_s=self.answer_deadline_s,
        )
