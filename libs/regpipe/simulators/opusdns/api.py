"""A faithful OpusDNS events API over an `OpusDnsSimulator`'s state, for tests and demos.

It answers like the documented API: `GET /v1/events` (page, page_size 1-1000, sort_by, sort_order defaulting to
`desc`, filters, `acknowledged` defaulting to false, the exact pagination object), `GET` and `PATCH`
`/v1/events/{event_id}` (204; 404 problem+json ERROR_EVENT_NOT_FOUND once acknowledged), `POST /v1/auth/token`
(client credentials as form or JSON, Bearer tokens valid `token_ttl_s`), `X-Api-Key` auth with permissions
(`events:read` to list and read, `events:manage` to acknowledge; 401/403 problem+json), and zone-less times
unless the request sends `X-Datetime-Format: rfc3339`. Faults on demand (429 with Retry-After, 5xx, slow answers,
malformed JSON, an event listed twice) and held acknowledgements come from the state; admin routes under `/_sim/`
drive it for demos.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regpipe.providers.opusdns.auth import TOKEN_PATH
from regpipe.providers.opusdns.payloads import EVENT_ID_PATTERN, ObjectType, Operation, Subtype
from regpipe.simulators.kit.serving import serve
from regpipe.simulators.opusdns.state import Endpoint, Fault, OpusDnsSimulator

__all__ = ["OpusDnsApi", "create_simulator_app", "serve_simulator"]

_JSON = "application/json"
_PROBLEM = "application/problem+json"
_EVENT_ID = re.compile(EVENT_ID_PATTERN)


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


def _not_found(event_id: str) -> Response:
    return _problem(
        404,
        "Event Error",
        "event-not-found",
        code="ERROR_EVENT_NOT_FOUND",
        detail="Event not found",
        event_id=event_id,
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


def _json(request: Request, value: Any, status: int = 200) -> Response:
    rfc3339 = request.headers.get("x-datetime-format", "").lower() == "rfc3339"
    return Response(orjson.dumps(_render(value, rfc3339=rfc3339)), status_code=status, media_type=_JSON)


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


def _choice(query: Mapping[str, str], name: str, allowed: Iterable[str], default: str | None) -> str | None:
    raw = query.get(name)
    if raw is None:
        return default
    options = [str(option) for option in allowed]
    if raw not in options:
        raise _validation_error("query", name, "Input should be " + ", ".join(repr(o) for o in options), raw)
    return raw


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


class OpusDnsApi:
    """The HTTP handlers: each authorizes, draws a fault, answers from the state, and logs the request."""

    def __init__(self, simulator: OpusDnsSimulator) -> None:
        self.simulator = simulator

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
            fault = self.simulator.draw_fault(endpoint)
            if fault is Fault.SLOW:
                await self.simulator.stall()
            elif fault is not None:
                self._raise_fault(fault)
            response = await handler(request)
            if fault is Fault.MALFORMED and response.body:
                response = Response(bytes(response.body)[: len(response.body) // 2], media_type=_JSON)
        except _RejectedError as rejected:
            response = rejected.response
        self.simulator.record(endpoint, response.status_code, request.headers.get("user-agent", ""), request.url.query)
        return response

    def _authorize(self, request: Request, permission: str) -> None:
        authorization = request.headers.get("authorization", "")
        bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
        permissions = self.simulator.permissions(api_key=request.headers.get("x-api-key"), bearer=bearer)
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

    def _raise_fault(self, fault: Fault) -> None:
        if fault is Fault.RATE_LIMITED:
            response = _problem(
                429, "Too Many Requests", "rate-limit", code="ERROR_RATE_LIMIT_EXCEEDED", detail="Slow down"
            )
            response.headers["Retry-After"] = str(self.simulator.rates.retry_after_s)
            raise _RejectedError(response)
        if fault is Fault.HTTP_500:
            raise _RejectedError(_problem(500, "Internal Server Error", "internal-error", code="ERROR_INTERNAL"))
        if fault is Fault.HTTP_502:
            raise _RejectedError(
                Response(b"<html><body><h1>502 Bad Gateway</h1></body></html>", 502, media_type="text/html")
            )
        if fault is Fault.HTTP_503:
            raise _RejectedError(_problem(503, "Service Unavailable", "service-unavailable", code="ERROR_UNAVAILABLE"))

    async def _list(self, request: Request) -> Response:
        query = request.query_params
        page = _int(query, "page", 1, 1, None)
        page_size = _int(query, "page_size", 10, 1, 1000)
        sort_by = _choice(query, "sort_by", ("created_on", "object_id"), "created_on")
        sort_order = _choice(query, "sort_order", ("asc", "desc"), "desc")
        filters = {
            "object_type": _choice(query, "object_type", tuple(ObjectType), None),
            "type": _choice(query, "type", tuple(Operation), None),
            "subtype": _choice(query, "subtype", tuple(Subtype), None),
            "object_id": query.get("object_id"),
        }
        listing = self.simulator.list_events(
            page=page,
            page_size=page_size,
            by_object_id=sort_by == "object_id",
            descending=sort_order == "desc",
            filters=filters,
            acknowledged=_bool(query, "acknowledged", default=False),
        )
        return _json(request, {"results": listing.results, "pagination": listing.pagination})

    def _find(self, request: Request) -> dict[str, Any]:
        event_id = request.path_params["event_id"]
        if not _EVENT_ID.match(event_id):
            raise _validation_error("path", "event_id", f"String should match pattern '{EVENT_ID_PATTERN}'", event_id)
        event = self.simulator.find(event_id)
        if event is None:
            raise _RejectedError(_not_found(event_id))
        return event

    async def _get(self, request: Request) -> Response:
        return _json(request, self._find(request))

    async def _ack(self, request: Request) -> Response:
        await request.body()
        event = self._find(request)
        if not await self.simulator.held_acks.admit(request):
            return Response(status_code=499)  # nobody is listening any more: the acknowledgement never happened
        if not self.simulator.acknowledge(event):
            return _not_found(event["event_id"])
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
        token = self.simulator.issue_token(str(form.get("client_id", "")), form.get("client_secret"))
        if token is None:
            return _problem(
                401, "Authentication Error", "authentication", code="ERROR_AUTHENTICATION", detail="Invalid client"
            )
        ttl = self.simulator.token_ttl_s
        return _json(request, {"access_token": token, "token_type": "Bearer", "expires_in": ttl})

    # -- admin routes for demos (JSON) --------------------------------------------------------------------------

    async def admin(self, request: Request) -> Response:
        """`/_sim/{what}`: `generate` (POST, `n`, `every=1`), `events` (POST a JSON list), `pending`, `acked`,
        `stats`, `fail` (POST, `fault`, `count`, `endpoint`), `hold` and `release` (POST)."""
        sim = self.simulator
        what = request.path_params["what"]
        query = request.query_params
        post = request.method == "POST"
        try:
            payload: Any
            if what == "generate" and post:
                payload = (
                    sim.generate_every_combination() if query.get("every") else sim.generate(int(query.get("n", "10")))
                )
            elif what == "events" and post:
                events = orjson.loads(await request.body())
                if not isinstance(events, list):
                    raise ValueError("expected a JSON list of event objects")
                sim.enqueue(events)
                payload = {"pending": len(sim.pending())}
            elif what == "pending":
                payload = sim.pending()
            elif what == "acked":
                payload = [{"event_id": ack.event_id, "acked_at": ack.acked_at} for ack in sim.acked()]
            elif what == "stats":
                payload = {
                    "events": sim.event_count,
                    "pending": len(sim.pending()),
                    "acked": len(sim.acked()),
                    "faults_served": {fault.value: count for fault, count in sim.faults_served.items()},
                    "list_requests_by_user_agent": dict(sim.user_agents()),
                    "tokens_issued": sim.tokens_issued,
                }
            elif what == "fail" and post:
                endpoint = query.get("endpoint")
                sim.fail_next(
                    Fault(query["fault"]),
                    int(query.get("count", "1")),
                    endpoint=Endpoint(endpoint) if endpoint else None,
                )
                payload = {"scripted": sim.faults_scripted}
            elif what == "hold" and post:
                sim.hold_acks()
                payload = {"held": True}
            elif what == "release" and post:
                sim.release_acks()
                payload = {"held": False}
            else:
                return Response(status_code=404)
        except (KeyError, ValueError, orjson.JSONDecodeError) as exc:
            return Response(orjson.dumps({"error": str(exc)}), status_code=400, media_type=_JSON)
        return Response(orjson.dumps(_render(payload, rfc3339=True)), media_type=_JSON)


def create_simulator_app(simulator: OpusDnsSimulator) -> Starlette:
    """The ASGI app: the events API, the token endpoint, and `/_sim/...` admin routes."""
    api = OpusDnsApi(simulator)
    return Starlette(
        routes=[
            Route("/v1/events", api.list_events, methods=["GET"]),
            Route("/v1/events/{event_id}", api.get_event, methods=["GET"]),
            Route("/v1/events/{event_id}", api.acknowledge, methods=["PATCH"]),
            Route(TOKEN_PATH, api.token, methods=["POST"]),
            Route("/_sim/{what}", api.admin, methods=["GET", "POST"]),
        ]
    )


def serve_simulator(
    simulator: OpusDnsSimulator, host: str = "127.0.0.1", port: int = 0
) -> AbstractAsyncContextManager[str]:
    """Serve `simulator` on `host:port` (0: any free port) inside the running loop; yields its base URL."""
    return serve(create_simulator_app(simulator), host, port, on_close=simulator.close)
