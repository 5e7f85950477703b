"""Async client of the OpenSRS XML API for event notifications: signed `EVENT POLL` and `EVENT ACK` calls.

One client (one connection pool) per process. Every failure is raised as an `OpenSRSError` whose `retriable`
flag tells the caller whether backing off and calling again can help; the client itself never retries.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from types import TracebackType

import httpx
from pydantic import JsonValue, ValidationError

from regpipe.observability.logging import get_logger
from regpipe.providers.opensrs.errors import (
    AUTH_CODES,
    AuthenticationError,
    EnvelopeError,
    RefusedReplyError,
    ReplyError,
    TransportError,
    UnsafeXmlError,
)
from regpipe.providers.opensrs.payloads import OpenSRSEvent, Reply
from regpipe.providers.opensrs.protocol import ack_request, decode_reply, poll_request, reply_event_items
from regpipe.providers.opensrs.signature import sign

__all__ = ["NOT_FOUND_CODE", "AckResult", "OpenSRSClient", "PollResult"]

_log = get_logger(__name__)

#: The reply code of an ACK whose event id OpenSRS does not know (unknown, or acknowledged already).
NOT_FOUND_CODE = 480
# Server-side trouble and rate limiting: the same request may well succeed later.
_RETRIABLE_HTTP = frozenset({408, 425, 429})
_TCP_NODELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@dataclass(frozen=True, slots=True)
class PollResult:
    """One POLL reply: its bytes exactly as received, and the events found in it."""

    body: bytes
    reply: Reply
    event_ids: tuple[str, ...]
    """The id of every event item, valid or not, in reply order (what must be ACKed once published)."""
    events: tuple[OpenSRSEvent, ...]
    """The event items that validate as event objects."""
    items: tuple[dict[str, JsonValue], ...] = ()
    """Every event item as received (decoded, unvalidated), in reply order: what the poller publishes one by one."""

    @property
    def unackable(self) -> int:
        """Items without an `event_id`: OpenSRS cannot be told they were received, so they stay queued."""
        return len(self.items) - len(self.event_ids)


@dataclass(frozen=True, slots=True)
class AckResult:
    """The answer to one ACK."""

    event_id: str
    events_remaining: int | None
    known: bool
    """False when OpenSRS did not know the id (already acknowledged, e.g. by another replica): harmless."""


class OpenSRSClient:
    """Signs and sends XCP requests to `base_url` (`https://<host>:55443`) as reseller `username`."""

    def __init__(
        self,
        base_url: str,
        *,
        username: str,
        api_key: str,
        timeout_s: float = 80.0,
        connect_timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._username = username
        self._api_key = api_key
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)),
            # The request head and body go out in separate writes: without TCP_NODELAY the body waits for a
            # delayed ACK (~40 ms per call, which adds up at one ACK per event).
            transport=transport or httpx.AsyncHTTPTransport(socket_options=[_TCP_NODELAY]),
            follow_redirects=False,
        )

    @property
    def username(self) -> str:
        """The reseller user the client signs as."""
        return self._username

    def __repr__(self) -> str:
        return f"OpenSRSClient(base_url={str(self._http.base_url)!r}, username={self._username!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> OpenSRSClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def poll(self, limit: int = 1) -> PollResult:
        """Fetch up to `limit` (1..100) of the oldest unacknowledged events; they stay queued until ACKed."""
        body, reply = await self._call("POLL", poll_request(limit))
        if not reply.is_success:
            raise self._reply_error("POLL", reply)
        try:
            items = reply_event_items(reply)
        except EnvelopeError as exc:
            raise RefusedReplyError(f"OpenSRS POLL: unexpected reply shape: {exc}", body=body, unsafe=False) from exc
        event_ids: list[str] = []
        events: list[OpenSRSEvent] = []
        for index, item in enumerate(items):
            event_id = item.get("event_id")
            if isinstance(event_id, str) and event_id:
                event_ids.append(event_id)
            else:
                # Without an id it cannot be ACKed: it will come back on every poll, so say so loudly.
                _log.error("opensrs poll reply holds an event without event_id", index=index)
            try:
                events.append(OpenSRSEvent.model_validate(item))
            except ValidationError as exc:
                # Published all the same (the normalizer quarantines it): its event id joins this line to that one.
                _log.warning(
                    "opensrs event does not validate",
                    index=index,
                    provider_event_id=event_id if isinstance(event_id, str) else None,
                    errors=exc.error_count(),
                )
        return PollResult(body=body, reply=reply, event_ids=tuple(event_ids), events=tuple(events), items=tuple(items))

    async def ack(self, event_id: str) -> AckResult:
        """Acknowledge one event; an id OpenSRS does not know (480) counts as already acknowledged."""
        _, reply = await self._call("ACK", ack_request(event_id))
        if not reply.is_success:
            if reply.response_code == NOT_FOUND_CODE:
                _log.warning(
                    "opensrs ack of an unknown event id, treated as acknowledged",
                    provider_event_id=event_id,
                    response_text=reply.response_text,
                )
                return AckResult(event_id=event_id, events_remaining=None, known=False)
            raise self._reply_error("ACK", reply)
        remaining = reply.attributes.get("events_remaining")
        try:
            count = int(remaining) if isinstance(remaining, str | int) else None
        except ValueError:
            count = None
        return AckResult(event_id=event_id, events_remaining=count, known=True)

    async def _call(self, action: str, body: bytes) -> tuple[bytes, Reply]:
        headers = {
            "Content-Type": "text/xml",
            "X-Username": self._username,
            "X-Signature": sign(body, self._api_key),
            "Content-Length": str(len(body)),
        }
        try:
            response = await self._http.post("/", content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise TransportError(f"OpenSRS {action} timed out: {type(exc).__name__}") from exc
        except httpx.RequestError as exc:
            raise TransportError(f"OpenSRS {action} failed: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status >= 500 or status in _RETRIABLE_HTTP:
            raise TransportError(f"OpenSRS {action}: HTTP {status}", status_code=status)
        if not 200 <= status < 300:
            raise TransportError(f"OpenSRS {action}: HTTP {status}", status_code=status, retriable=False)
        try:
            return response.content, decode_reply(response.content)
        except EnvelopeError as exc:
            # Asking again is safe: a POLL changes nothing, and an ACK that did go through answers 480 next time.
            # The bytes go with the error: a POLL reply refused again and again is kept by the poller, not lost.
            # An unsafe reply is named by the refusal only: defusedxml's text quotes the attacker's entity and URLs.
            what = type(exc.__cause__).__name__ if isinstance(exc, UnsafeXmlError) and exc.__cause__ else str(exc)
            raise RefusedReplyError(
                f"OpenSRS {action}: reply is not an OPS envelope: {what}",
                body=response.content,
                unsafe=isinstance(exc, UnsafeXmlError),
            ) from exc

    @staticmethod
    def _reply_error(action: str, reply: Reply) -> ReplyError:
        text = reply.response_text or ""
        if reply.response_code in AUTH_CODES:
            return AuthenticationError(reply.response_code, text, action=action)
        return ReplyError(reply.response_code, text, action=action)
