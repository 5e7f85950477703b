"""Async client of the OpusDNS events API: list pending events (keeping the exact bytes received), read one event,
acknowledge one event. Retries 429 and 5xx (honouring `Retry-After`) and transport failures with capped
exponential backoff and jitter; every other error answer is raised at once (see `errors`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import TracebackType

import httpx
import orjson
import stamina
from pydantic import JsonValue, SecretStr, ValidationError

from regpipe.contract.taxonomy import Source
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import POLL_ERRORS
from regpipe.providers.opusdns.auth import TOKEN_PATH, ApiKeyAuth, ClientCredentialsAuth
from regpipe.providers.opusdns.errors import (
    OpusDnsApiError,
    OpusDnsError,
    OpusDnsNotFoundError,
    OpusDnsPayloadError,
    OpusDnsTransportError,
    api_error,
)
from regpipe.providers.opusdns.payloads import Event, EventPage, Pagination, SortField, SortOrder

__all__ = ["EventListing", "OpusDnsClient", "RetryPolicy", "make_auth"]

_log = get_logger(__name__)

_SOURCE = Source.OPUSDNS.value
#: Opt in to RFC 3339 times (UTC, `Z`); without it OpusDNS sends zone-less times until its default changes.
_DATETIME_HEADERS = {"X-Datetime-Format": "rfc3339", "Accept": "application/json"}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard the client tries before raising a retriable error to its caller."""

    attempts: int = 6
    timeout_s: float = 120.0  # total time budget of one call, waits included
    wait_initial_s: float = 0.5
    wait_max_s: float = 30.0
    wait_jitter_s: float = 1.0
    retry_after_cap_s: float = 60.0  # a longer Retry-After is cut short: the poller's own backoff takes over


@dataclass(frozen=True, slots=True)
class EventListing:
    """One page of `GET /v1/events`: the response body exactly as received, and its parsed form."""

    body: bytes
    page: EventPage
    """The page as validated: `results` holds the events that validate (all of them on a sound page)."""
    items: tuple[JsonValue, ...] = ()
    """Every item of `results` as received (decoded, unvalidated), in page order: what the poller publishes."""


def make_auth(
    base_url: str,
    *,
    api_key: SecretStr | None = None,
    client_id: str | None = None,
    client_secret: SecretStr | None = None,
) -> httpx.Auth:
    """The auth flow for the credentials given: the API key if set, else OAuth client credentials."""
    if api_key is not None and api_key.get_secret_value():
        return ApiKeyAuth(api_key)
    if client_id and client_secret is not None and client_secret.get_secret_value():
        return ClientCredentialsAuth(client_id, client_secret, token_url=base_url.rstrip("/") + TOKEN_PATH)
    raise ValueError("OpusDNS needs an API key, or a client id and client secret")


def _error_kind(exc: OpusDnsError) -> str:
    if isinstance(exc, OpusDnsApiError):
        return "rate_limited" if exc.status == 429 else f"http_{exc.status // 100}xx"
    return "transport" if isinstance(exc, OpusDnsTransportError) else "payload"


class OpusDnsClient:
    """One long-lived connection pool to the API (use it as an async context manager, or call `aclose`)."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        *,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        user_agent: str = "regpipe-opusdns",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            timeout=timeout_s,
            headers={**_DATETIME_HEADERS, "User-Agent": user_agent},
            transport=transport,
        )

    async def __aenter__(self) -> OpusDnsClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def list_events(
        self,
        *,
        page: int = 1,
        page_size: int = 100,
        sort_by: SortField = "created_on",
        sort_order: SortOrder = "asc",
        acknowledged: bool | None = False,
        object_type: str | None = None,
        object_id: str | None = None,
        type: str | None = None,
        subtype: str | None = None,
    ) -> EventListing:
        """One page of events. The defaults are the poller's: unacknowledged, oldest first (the API's own default
        order is newest first)."""
        params: dict[str, str | int] = {"page": page, "page_size": page_size, "sort_by": sort_by}
        params["sort_order"] = sort_order
        optional = {"object_type": object_type, "object_id": object_id, "type": type, "subtype": subtype}
        params.update({name: value for name, value in optional.items() if value is not None})
        if acknowledged is not None:
            params["acknowledged"] = "true" if acknowledged else "false"
        response = await self._send("GET", "/v1/events", params=params)
        try:
            parsed = EventPage.model_validate_json(response.content)
        except ValidationError as exc:
            # One event the model refuses must not hold up the page: keep every item, validate them one by one.
            lenient = _lenient_page(response.content)
            if lenient is None:
                POLL_ERRORS.labels(_SOURCE, "payload").inc()
                raise OpusDnsPayloadError(
                    f"GET /v1/events: answer is not a page of events ({exc.error_count()} errors): "
                    f"{exc.errors()[0]['msg']}"
                ) from exc
            checked, items = lenient
            POLL_ERRORS.labels(_SOURCE, "invalid_event").inc(len(items) - len(checked.results))
            return EventListing(body=response.content, page=checked, items=items)
        document = orjson.loads(response.content)  # valid JSON: the model just read it
        return EventListing(body=response.content, page=parsed, items=tuple(document["results"]))

    async def get_event(self, event_id: str) -> Event:
        """One event by id (acknowledged or not)."""
        response = await self._send("GET", f"/v1/events/{event_id}")
        try:
            return Event.model_validate_json(response.content)
        except ValidationError as exc:
            POLL_ERRORS.labels(_SOURCE, "payload").inc()
            raise OpusDnsPayloadError(f"GET /v1/events/{event_id}: answer is not an event") from exc

    async def acknowledge(self, event_id: str) -> bool:
        """Acknowledge one event: True when acknowledged now, False when OpusDNS no longer knew it as pending.

        404 ERROR_EVENT_NOT_FOUND comes back for an event acknowledged before (by a previous run that died before
        recording it, or a retried PATCH whose first answer was lost): the goal is reached, so it is not an error.
        """
        try:
            await self._send("PATCH", f"/v1/events/{event_id}")
        except OpusDnsNotFoundError as exc:
            _log.info("acknowledge: event not pending any more", provider_event_id=event_id, code=exc.code)
            return False
        return True

    async def _send(self, method: str, path: str, *, params: dict[str, str | int] | None = None) -> httpx.Response:
        policy = self._retry
        async for attempt in stamina.retry_context(
            on=self._backoff,
            attempts=policy.attempts,
            timeout=policy.timeout_s,
            wait_initial=policy.wait_initial_s,
            wait_max=policy.wait_max_s,
            wait_jitter=policy.wait_jitter_s,
        ):
            with attempt:
                return await self._send_once(method, path, params)
        raise RuntimeError("unreachable: the retry loop either returns or raises")  # pragma: no cover

    async def _send_once(self, method: str, path: str, params: dict[str, str | int] | None) -> httpx.Response:
        try:
            response = await self._http.request(method, path, params=params)
        except httpx.TransportError as exc:
            raise OpusDnsTransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if response.is_error:
            raise api_error(response)
        return response

    def _backoff(self, exc: Exception) -> bool | float | dt.timedelta:
        """stamina's hook: whether to retry `exc`, and after how long when the provider said (`Retry-After`)."""
        if not isinstance(exc, OpusDnsError):
            return False
        if isinstance(exc, OpusDnsApiError) and exc.status != 404:
            POLL_ERRORS.labels(_SOURCE, _error_kind(exc)).inc()
        elif isinstance(exc, OpusDnsTransportError):
            POLL_ERRORS.labels(_SOURCE, "transport").inc()
        if not exc.retriable:
            return False
        if isinstance(exc, OpusDnsApiError) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, self._retry.retry_after_cap_s)
        return True


def _lenient_page(body: bytes) -> tuple[EventPage, tuple[JsonValue, ...]] | None:
    """A page whose `pagination` and `results` list are sound, with only the events that validate in `results`;
    None when the answer is not such a page at all."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        return None
    try:
        pagination = Pagination.model_validate(document.get("pagination"))
    except ValidationError:
        return None
    valid: list[Event] = []
    for item in document["results"]:
        try:
            valid.append(Event.model_validate(item))
        except ValidationError:
            continue
    return EventPage.model_construct(results=valid, pagination=pagination), tuple(document["results"])
