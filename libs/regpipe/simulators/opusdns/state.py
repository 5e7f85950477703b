"""A faithful OpusDNS events API server, for tests and demos.

It answers like the documented API: `GET /v1/events` (page, page_size 1-1000, sort_by, sort_order defaulting to
`desc`, filters, `acknowledged` defaulting to false, the exact pagination object), `GET` and `PATCH`
`/v1/events/{event_id}` (204; 404 problem+json ERROR_EVENT_NOT_FOUND once acknowledged), `POST /v1/auth/token`
(client credentials as form or JSON, Bearer tokens valid `token_ttl_s`), `X-Api-Key` auth with permissions
(`events:read` to list and read, `events:manage` to acknowledge; 401/403 problem+json), and zone-less times
unless the request sends `X-Datetime-Format: rfc3339`.

It misbehaves on demand (429 with Retry-After, 5xx, slow answers, malformed JSON, an event listed twice,
re-delivery of an acknowledged event) and can hold acknowledgements until released, which is how kill tests
catch a poller between publishing and acknowledging. Python API for tests (`OpusDnsSimulator`), admin routes
under `/_sim/` for demos.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final
from urllib.parse import parse_qs

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regpipe.providers.opusdns.auth import TOKEN_PATH
from regpipe.providers.opusdns.payloads import EVENT_ID_PATTERN, ObjectType, Operation, Subtype
from regpipe.providers.opusdns.sample_events import EventFactory
from regpipe.runtime.http import serve_app

__all__ = [
    "ALL_PERMISSIONS",
    "AckRecord",
    "Endpoint",
    "Fault",
    "FaultRates",
    "OpusDnsSimulator",
    "RequestRecord",
    "create_simulator_app",
    "run_simulator",
    "serve_simulator",
]

ALL_PERMISSIONS: Final = frozenset({"events:read", "events:manage"})
_JSON = "application/json"
_PROBLEM = "application/problem+json"
_EVENT_ID = re.compile(EVENT_ID_PATTERN)


class Fault(StrEnum):
    """A way to misbehave on one request."""

    SLOW = "slow"  # answer only after `FaultRates.slow_s`
    RATE_LIMITED = "rate_limited"  # 429 with Retry-After: `FaultRates.retry_after_s`
    HTTP_500 = "http_500"  # problem+json
    HTTP_502 = "http_502"  # an HTML page, as a proxy in front of the API would send
    HTTP_503 = "http_503"
    MALFORMED = "malformed"  # the request is carried out, but the JSON answer is cut short


class Endpoint(StrEnum):
    """The simulated endpoints, to aim scripted faults and read the request log."""

    LIST = "list"
    GET = "get"
    ACK = "ack"
    TOKEN = "token"  # noqa: S105 -- an endpoint name, not a password


@dataclass
class FaultRates:
    """Probabilities (0..1) of misbehaving on any request, drawn from the simulator's seeded generator."""

    slow: float = 0.0
    slow_s: float = 2.0
    rate_limited: float = 0.0
    retry_after_s: int = 1
    http_5xx: float = 0.0
    malformed: float = 0.0
    duplicate: float = 0.0  # chance that a listing shows one of its events twice


@dataclass(frozen=True, slots=True)
class AckRecord:
    """One applied acknowledgement, with the wall-clock time it was applied."""

    event_id: str
    acked_at: float


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the simulator answered (for tests of who polled, and how often)."""

    endpoint: Endpoint
    status: int
    user_agent: str
    at: float
    query: str  # the raw query string (tests check that pollers only read page 1)


class _RejectedError(Exception):
    """An answer other than the happy one (auth failure, validation error, fault): carries the response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _problem(status: int, title: str, type_: str, *, code: str | None = None, **fields: Any) -> Response:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if code is not None:
        body["code"] = code
    body.update(fields)
    return Response(orjson.dumps(body), status_code=status, media_type=_PROBLEM)


def _validation_error(location: str, name: str, message: str, value: Any) -> _RejectedError:
    error = {"loc": [location, name], "msg": message, "type": "value_error", "input": value}
    return _RejectedError(
        _problem(422, "Request Validation Error", "request-validation-error", errors=[error], code="ERROR_VALIDATION")
    )


def _render(value: Any, *, rfc3339: bool) -> Any:
    """Times as OpusDNS writes them: RFC 3339 in UTC with `Z` when asked; else UTC times without a zone (times
    a registry gave with another offset keep it)."""
    if isinstance(value, datetime):
        if rfc3339:
            text = value.astimezone(UTC).replace(tzinfo=None).isoformat()
            return text + "Z"
        if value.utcoffset() == UTC.utcoffset(None):
            return value.replace(tzinfo=None).isoformat()
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _render(item, rfc3339=rfc3339) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, rfc3339=rfc3339) for item in value]
    return value


def _as_datetime(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


class OpusDnsSimulator:
    """The simulator's state and behaviour; serve it with `create_simulator_app` / `serve_simulator`."""

    def __init__(
        self,
        *,
        api_keys: Mapping[str, Iterable[str]] | None = None,
        clients: Mapping[str, tuple[str, Iterable[str]]] | None = None,
        seed: int = 0,
        rates: FaultRates | None = None,
        token_ttl_s: int = 3600,
    ) -> None:
        """`api_keys`: key -> permissions; `clients`: OAuth client id -> (secret, permissions)."""
        self._api_keys = {
            key: frozenset(perms) for key, perms in (api_keys or {"opk_simulator": ALL_PERMISSIONS}).items()
        }
        self._clients = {cid: (secret, frozenset(perms)) for cid, (secret, perms) in (clients or {}).items()}
        self._tokens: dict[str, tuple[frozenset[str], float]] = {}
        self.token_ttl_s = token_ttl_s
        self.rng = random.Random(seed)  # noqa: S311 -- reproducible fake content and faults, not secrets
        self.factory = EventFactory(self.rng, clock=datetime.now(UTC), realtime=True)
        self.rates = rates or FaultRates()
        self._events: dict[str, dict[str, Any]] = {}
        self._scripted: list[tuple[Fault, Endpoint | None]] = []
        self._acks: list[AckRecord] = []
        self._ack_gate = asyncio.Event()
        self._ack_gate.set()
        self._ack_waiting = asyncio.Event()
        self.requests: list[RequestRecord] = []
        self.faults_served: Counter[Fault] = Counter()
        self.tokens_issued = 0

    # -- Python API used by tests and demos -------------------------------------------------------------------

    def enqueue(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Add event objects (as `EventFactory` makes them); an event id seen before replaces that event."""
        for event in events:
            stored = dict(event)
            stored["created_on"] = _as_datetime(stored["created_on"])
            stored.setdefault("acknowledged_on", None)
            self._events[str(stored["event_id"])] = stored

    def generate(self, n: int, *, legacy_share: float = 0.05) -> list[dict[str, Any]]:
        """Make `n` realistic events created now (legacy ones in the past), add them, and return them."""
        events = self.factory.random_events(n, legacy_share=legacy_share)
        self.enqueue(events)
        return events

    def generate_every_combination(self) -> list[dict[str, Any]]:
        """Add one event of every documented object type x type x subtype (see `EventFactory.every_combination`)."""
        events = self.factory.every_combination()
        self.enqueue(events)
        return events

    def pending(self) -> list[dict[str, Any]]:
        """Events not acknowledged yet, oldest first."""
        return sorted(
            (event for event in self._events.values() if event["acknowledged_on"] is None),
            key=lambda event: (event["created_on"], event["event_id"]),
        )

    def acked(self) -> list[AckRecord]:
        """Every applied acknowledgement, in order."""
        return list(self._acks)

    def redeliver(self, event_id: str) -> None:
        """Make an acknowledged event pending again (a provider-side duplicate)."""
        self._events[event_id]["acknowledged_on"] = None

    def revoke_tokens(self) -> None:
        """Invalidate every Bearer token issued so far (as a credential rotation would)."""
        self._tokens.clear()

    def fail_next(self, fault: Fault, count: int = 1, *, endpoint: Endpoint | None = None) -> None:
        """Misbehave with `fault` on the next `count` requests (to `endpoint`, if given)."""
        self._scripted.extend((fault, endpoint) for _ in range(count))

    def hold_acks(self) -> None:
        """Make acknowledgements wait (unapplied) until `release_acks`; one whose client went away is never
        applied."""
        self._ack_waiting.clear()
        self._ack_gate.clear()

    def release_acks(self) -> None:
        """Let held and future acknowledgements through."""
        self._ack_gate.set()

    async def wait_for_held_ack(self, timeout_s: float) -> None:
        """Return once an acknowledgement arrives while they are held (the client has published its page)."""
        await asyncio.wait_for(self._ack_waiting.wait(), timeout=timeout_s)

    def user_agents(self, endpoint: Endpoint = Endpoint.LIST, *, since: float = 0.0) -> Counter[str]:
        """How many requests to `endpoint` each User-Agent made since `since` (Unix time)."""
        return Counter(r.user_agent for r in self.requests if r.endpoint is endpoint and r.at >= since)

    # -- request handling -------------------------------------------------------------------------------------

    async def list_events(self, request: Request) -> Response:
        """`GET /v1/events`."""
        return await self._answer(request, Endpoint.LIST, "events:read", self._list)

    async def get_event(self, request: Request) -> Response:
        """`GET /v1/events/{event_id}`."""
        return await self._answer(request, Endpoint.GET, "events:read", self._get)

    async def acknowledge(self, request: Request) -> Response:
        """`PATCH /v1/events/{event_id}`."""
        return await self._answer(request, Endpoint.ACK, "events:manage", self._ack)

    async def token(self, request: Request) -> Response:
        """`POST /v1/auth/token`: OAuth client credentials, as a form or as JSON."""
        return await self._answer(request, Endpoint.TOKEN, None, self._token)

    async def _answer(
        self,
        request: Request,
        endpoint: Endpoint,
        permission: str | None,
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Response:
        try:
            if permission is not None:
                self._authorize(request, permission)
            fault = self._draw_fault(endpoint)
            if fault is Fault.SLOW:
                await asyncio.sleep(self.rates.slow_s)
            elif fault is not None:
                self._raise_fault(fault)
            response = await handler(request)
            if fault is Fault.MALFORMED and response.body:
                response = Response(bytes(response.body)[: len(response.body) // 2], media_type=_JSON)
        except _RejectedError as rejected:
            response = rejected.response
        self.requests.append(
            RequestRecord(
                endpoint, response.status_code, request.headers.get("user-agent", ""), time.time(), request.url.query
            )
        )
        return response

    def _authorize(self, request: Request, permission: str) -> None:
        permissions: frozenset[str] | None = None
        api_key = request.headers.get("x-api-key")
        authorization = request.headers.get("authorization", "")
        if api_key is not None:
            permissions = self._api_keys.get(api_key)
        elif authorization.lower().startswith("bearer "):
            grant = self._tokens.get(authorization[7:].strip())
            if grant is not None and grant[1] > time.monotonic():
                permissions = grant[0]
        if permissions is None:
            raise _RejectedError(
                _problem(
                    401,
                    "Authentication Error",
                    "authentication",
                    code="ERROR_AUTHENTICATION",
                    detail="Invalid or missing credentials",
                )
            )
        if permission not in permissions:
            raise _RejectedError(
                _problem(
                    403,
                    "Permission Denied",
                    "permission-denied",
                    code="ERROR_PERMISSION_DENIED",
                    detail=f"Missing permission {permission}",
                )
            )

    def _draw_fault(self, endpoint: Endpoint) -> Fault | None:
        for index, (scripted, aimed_at) in enumerate(self._scripted):
            if aimed_at in (None, endpoint):
                del self._scripted[index]
                self.faults_served[scripted] += 1
                return scripted
        rates, draw = self.rates, self.rng.random
        fault: Fault | None = None
        if rates.slow and draw() < rates.slow:
            fault = Fault.SLOW
        elif rates.rate_limited and draw() < rates.rate_limited:
            fault = Fault.RATE_LIMITED
        elif rates.http_5xx and draw() < rates.http_5xx:
            fault = self.rng.choice((Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503))
        elif rates.malformed and draw() < rates.malformed and endpoint in (Endpoint.LIST, Endpoint.GET):
            fault = Fault.MALFORMED
        if fault is not None:
            self.faults_served[fault] += 1
        return fault

    def _raise_fault(self, fault: Fault) -> None:
        if fault is Fault.RATE_LIMITED:
            response = _problem(
                429, "Too Many Requests", "rate-limit", code="ERROR_RATE_LIMIT_EXCEEDED", detail="Slow down"
            )
            response.headers["Retry-After"] = str(self.rates.retry_after_s)
            raise _RejectedError(response)
        if fault is Fault.HTTP_500:
            raise _RejectedError(_problem(500, "Internal Server Error", "internal-error", code="ERROR_INTERNAL"))
        if fault is Fault.HTTP_502:
            raise _RejectedError(
                Response(b"<html><body><h1>502 Bad Gateway</h1></body></html>", 502, media_type="text/html")
            )
        if fault is Fault.HTTP_503:
            raise _RejectedError(_problem(503, "Service Unavailable", "service-unavailable", code="ERROR_UNAVAILABLE"))

    def _json(self, request: Request, value: Any, status: int = 200) -> Response:
        rfc3339 = request.headers.get("x-datetime-format", "").lower() == "rfc3339"
        return Response(orjson.dumps(_render(value, rfc3339=rfc3339)), status_code=status, media_type=_JSON)

    async def _list(self, request: Request) -> Response:
        query = request.query_params
        page = self._int(query, "page", 1, 1, None)
        page_size = self._int(query, "page_size", 10, 1, 1000)
        sort_by = self._choice(query, "sort_by", ("created_on", "object_id"), "created_on")
        sort_order = self._choice(query, "sort_order", ("asc", "desc"), "desc")
        filters = {
            "object_type": self._choice(query, "object_type", tuple(ObjectType), None),
            "type": self._choice(query, "type", tuple(Operation), None),
            "subtype": self._choice(query, "subtype", tuple(Subtype), None),
            "object_id": query.get("object_id"),
        }
        acknowledged = self._bool(query, "acknowledged", default=False)
        selected = [
            event
            for event in self._events.values()
            if (event["acknowledged_on"] is not None) == acknowledged
            and all(value is None or event.get(name) == value for name, value in filters.items())
        ]
        if sort_by == "created_on":
            selected.sort(key=lambda event: (event["created_on"], event["event_id"]), reverse=sort_order == "desc")
        else:
            selected.sort(
                key=lambda event: (event["object_id"] or "", event["created_on"], event["event_id"]),
                reverse=sort_order == "desc",
            )
        total = len(selected)
        total_pages = math.ceil(total / page_size)
        results = selected[(page - 1) * page_size : page * page_size]
        if results and self.rates.duplicate and self.rng.random() < self.rates.duplicate:
            results = [*results, self.rng.choice(results)]
        pagination = {
            "total_pages": total_pages,
            "total_items": total,
            "current_page": page,
            "page_size": page_size,
            "has_next_page": page < total_pages,
            "has_previous_page": page > 1,
        }
        return self._json(request, {"results": results, "pagination": pagination})

    def _find(self, request: Request) -> dict[str, Any]:
        event_id = request.path_params["event_id"]
        if not _EVENT_ID.match(event_id):
            raise _validation_error("path", "event_id", f"String should match pattern '{EVENT_ID_PATTERN}'", event_id)
        event = self._events.get(event_id)
        if event is None:
            raise _RejectedError(self._not_found(event_id))
        return event

    @staticmethod
    def _not_found(event_id: str) -> Response:
        return _problem(
            404,
            "Event Error",
            "event-not-found",
            code="ERROR_EVENT_NOT_FOUND",
            detail="Event not found",
            event_id=event_id,
        )

    async def _get(self, request: Request) -> Response:
        return self._json(request, self._find(request))

    async def _ack(self, request: Request) -> Response:
        await request.body()
        event = self._find(request)
        if not self._ack_gate.is_set():
            self._ack_waiting.set()
            await self._ack_gate.wait()
            if await request.is_disconnected():
                return Response(status_code=499)  # nobody is listening any more: the acknowledgement never happened
        if event["acknowledged_on"] is not None:
            return self._not_found(event["event_id"])
        event["acknowledged_on"] = datetime.now(UTC)
        self._acks.append(AckRecord(event["event_id"], time.time()))
        return Response(status_code=204)

    async def _token(self, request: Request) -> Response:
        raw = await request.body()
        if request.headers.get("content-type", "").startswith(_JSON):
            try:
                form = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise _validation_error("body", "-", f"Invalid JSON: {exc}", None) from exc
            if not isinstance(form, dict):
                raise _validation_error("body", "-", "Expected an object", None)
        else:
            form = {key: values[0] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            raise _validation_error(
                "body", "grant_type", "Only client_credentials is supported", form.get("grant_type")
            )
        client = self._clients.get(str(form.get("client_id", "")))
        if client is None or client[0] != form.get("client_secret"):
            return _problem(
                401, "Authentication Error", "authentication", code="ERROR_AUTHENTICATION", detail="Invalid client"
            )
        token = "eyJ" + self.rng.randbytes(24).hex()
        self._tokens[token] = (client[1], time.monotonic() + self.token_ttl_s)
        self.tokens_issued += 1
        return self._json(request, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl_s})

    @staticmethod
    def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
        raw = query.get(name)
        if raw is None:
            return default
        if not raw.isascii() or not raw.lstrip("-").isdigit():
            raise _validation_error("query", name, "Input should be a valid integer", raw)
        value = int(raw)
        if value < low or (high is not None and value > high):
            bound = f"greater than or equal to {low}" if value < low else f"less than or equal to {high}"
            raise _validation_error("query", name, f"Input should be {bound}", raw)
        return value

    @staticmethod
    def _choice(query: Mapping[str, str], name: str, allowed: Iterable[str], default: str | None) -> str | None:
        raw = query.get(name)
        if raw is None:
            return default
        options = [str(option) for option in allowed]
        if raw not in options:
            raise _validation_error("query", name, "Input should be " + ", ".join(repr(o) for o in options), raw)
        return raw

    @staticmethod
    def _bool(query: Mapping[str, str], name: str, *, default: bool) -> bool:
        raw = query.get(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise _validation_error("query", name, "Input should be a valid boolean", raw)

    # -- admin routes for demos (JSON) --------------------------------------------------------------------------

    async def admin(self, request: Request) -> Response:
        """`/_sim/{what}`: `generate` (POST, `n`, `every=1`), `events` (POST a JSON list), `pending`, `acked`,
        `stats`, `fail` (POST, `fault`, `count`, `endpoint`), `hold` and `release` (POST)."""
        what = request.path_params["what"]
        query = request.query_params
        post = request.method == "POST"
        try:
            payload: Any
            if what == "generate" and post:
                payload = (
                    self.generate_every_combination()
                    if query.get("every")
                    else self.generate(int(query.get("n", "10")))
                )
            elif what == "events" and post:
                events = orjson.loads(await request.body())
                if not isinstance(events, list):
                    raise ValueError("expected a JSON list of event objects")
                self.enqueue(events)
                payload = {"pending": len(self.pending())}
            elif what == "pending":
                payload = self.pending()
            elif what == "acked":
                payload = [{"event_id": ack.event_id, "acked_at": ack.acked_at} for ack in self._acks]
            elif what == "stats":
                payload = {
                    "events": len(self._events),
                    "pending": len(self.pending()),
                    "acked": len(self._acks),
                    "faults_served": {fault.value: count for fault, count in self.faults_served.items()},
                    "list_requests_by_user_agent": dict(self.user_agents()),
                    "tokens_issued": self.tokens_issued,
                }
            elif what == "fail" and post:
                endpoint = query.get("endpoint")
                self.fail_next(
                    Fault(query["fault"]),
                    int(query.get("count", "1")),
                    endpoint=Endpoint(endpoint) if endpoint else None,
                )
                payload = {"scripted": len(self._scripted)}
            elif what == "hold" and post:
                self.hold_acks()
                payload = {"held": True}
            elif what == "release" and post:
                self.release_acks()
                payload = {"held": False}
            else:
                return Response(status_code=404)
        except (KeyError, ValueError, orjson.JSONDecodeError) as exc:
            return Response(orjson.dumps({"error": str(exc)}), status_code=400, media_type=_JSON)
        return Response(orjson.dumps(_render(payload, rfc3339=True)), media_type=_JSON)


def create_simulator_app(simulator: OpusDnsSimulator) -> Starlette:
    """The ASGI app: the events API, the token endpoint, and `/_sim/...` admin routes."""
    return Starlette(
        routes=[
            Route("/v1/events", simulator.list_events, methods=["GET"]),
            Route("/v1/events/{event_id}", simulator.get_event, methods=["GET"]),
            Route("/v1/events/{event_id}", simulator.acknowledge, methods=["PATCH"]),
            Route(TOKEN_PATH, simulator.token, methods=["POST"]),
            Route("/_sim/{what}", simulator.admin, methods=["GET", "POST"]),
        ]
    )


@asynccontextmanager
async def serve_simulator(simulator: OpusDnsSimulator, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve `simulator` on `host:port` (0: any free port) inside the running loop; yields its base URL."""
    async with serve_app(create_simulator_app(simulator), host, port) as bound:
        yield f"http://{host}:{bound}"


def run_simulator(
    host: str = "127.0.0.1",
    port: int = 8380,
    *,
    api_keys: Mapping[str, Iterable[str]] | None = None,
    clients: Mapping[str, tuple[str, Iterable[str]]] | None = None,
    seed: int = 0,
    generate: int = 0,
    rates: FaultRates | None = None,
) -> None:
    """Serve a simulator until interrupted, with `generate` random events (and one of every kind) added first."""
    simulator = OpusDnsSimulator(api_keys=api_keys, clients=clients, seed=seed, rates=rates)
    if generate:
        simulator.generate_every_combination()
        simulator.generate(generate)
    uvicorn.run(create_simulator_app(simulator), host=host, port=port, log_level="info")
