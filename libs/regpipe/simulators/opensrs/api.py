"""A faithful OpenSRS XML API server for event notifications (`EVENT POLL` / `EVENT ACK`), for tests and demos.

It keeps a queue of events per reseller and answers like OpenSRS: POLL returns the oldest `limit` unacknowledged
events again and again until each is ACKed; ACK removes one and says how many remain; a wrong user or signature
gets `response_code` 401 inside the XML. It can misbehave on demand (slow answers, HTTP 5xx, 400/486 replies,
malformed XML, duplicate events) and can hold ACKs until released, which is how kill tests catch a poller between
publishing and acknowledging. Python API for tests (`OpenSRSSimulator`), admin routes under `/_sim/` for demos.

Assumption (the public material does not say): ACK of an id that is not queued answers 480 "Event not found".
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regpipe.providers.opensrs.envelope import OpsValue, decode_envelope
from regpipe.providers.opensrs.errors import EnvelopeError
from regpipe.providers.opensrs.protocol import MAX_POLL_LIMIT, as_ops_value, encode_reply
from regpipe.providers.opensrs.signature import verify
from regpipe.simulators.kit.faults import FaultPlan
from regpipe.simulators.kit.held_acks import HeldAcks
from regpipe.simulators.kit.serving import serve
from regpipe.simulators.opensrs.events import SAMPLE_START, generate_events

__all__ = [
    "AckRecord",
    "Fault",
    "FaultRates",
    "OpenSRSSimulator",
    "create_simulator_app",
    "generate_events",
    "serve_simulator",
]

_XML = "text/xml"


class Fault(StrEnum):
    """A way to misbehave on one request."""

    SLOW = "slow"  # answer only after `FaultRates.slow_s`
    HTTP_500 = "http_500"
    HTTP_503 = "http_503"
    CODE_400 = "code_400"  # internal error: retriable
    CODE_486 = "code_486"  # object in a processing state: retriable
    MALFORMED = "malformed"  # the request is carried out, but the reply is cut short (not well-formed XML)


@dataclass
class FaultRates:
    """Probabilities (0..1) of misbehaving on any request, drawn from the simulator's seeded generator."""

    slow: float = 0.0
    slow_s: float = 2.0
    http_5xx: float = 0.0
    error_reply: float = 0.0
    malformed: float = 0.0
    duplicate: float = 0.0  # chance that a generated event is queued twice (same event_id)


@dataclass(frozen=True, slots=True)
class AckRecord:
    """One successful ACK, with the wall-clock time it was applied."""

    username: str
    event_id: str
    acked_at: float


class OpenSRSSimulator:
    """The simulator's state and behaviour; serve it with `create_simulator_app` / `serve_simulator`."""

    def __init__(
        self,
        resellers: Mapping[str, str],
        *,
        seed: int = 0,
        rates: FaultRates | None = None,
    ) -> None:
        self._keys = dict(resellers)
        self._queues: dict[str, deque[dict[str, Any]]] = {user: deque() for user in resellers}
        self.rng = random.Random(seed)
        self.rates = rates or FaultRates()
        self._faults: FaultPlan[Fault, str] = FaultPlan(self.rng)
        self._acks: list[AckRecord] = []
        self._held_acks = HeldAcks()
        self.polls_by_connection: Counter[str] = Counter()
        self.polls_by_user: Counter[str] = Counter()
        self.ack_attempts: Counter[str] = Counter()
        self._transactions = 0
        self._clock = SAMPLE_START

    # -- Python API used by tests and demos -------------------------------------------------------------------

    def enqueue(self, username: str, events: Iterable[Mapping[str, Any]]) -> None:
        """Queue event objects (as `generate_events` makes them) for `username`, oldest first."""
        self._queue(username).extend(dict(event) for event in events)

    def generate(self, username: str, n: int) -> list[dict[str, Any]]:
        """Generate `n` realistic events, queue them (some twice, per `rates.duplicate`), and return them."""
        events = generate_events(self.rng, n, start=self._clock)
        if events:  # the next batch happens after this one, as a real queue's would
            self._clock = datetime.fromisoformat(events[-1]["event_date"].replace("Z", "+00:00"))
        for event in events:
            self.enqueue(username, [event])
            if self.rates.duplicate and self.rng.random() < self.rates.duplicate:
                self.enqueue(username, [event])
        return events

    def queued(self, username: str) -> list[dict[str, Any]]:
        """The events still waiting for an ACK, oldest first."""
        return list(self._queue(username))

    def acked(self, username: str | None = None) -> list[AckRecord]:
        """Every applied ACK, in order."""
        return [ack for ack in self._acks if username is None or ack.username == username]

    @property
    def faults_served(self) -> Counter[Fault]:
        """How many times each fault was served, scripted or drawn."""
        return self._faults.served

    def fail_next(self, fault: Fault, count: int = 1, *, action: str | None = None) -> None:
        """Misbehave with `fault` on the next `count` requests (of `action`, POLL or ACK, if given)."""
        self._faults.script(fault, count, target=action)

    def hold_acks(self) -> None:
        """Make ACKs wait (unapplied) until `release_acks`; a request whose client went away is never applied."""
        self._held_acks.hold()

    def release_acks(self) -> None:
        """Let held and future ACKs through."""
        self._held_acks.release()

    def close(self) -> None:
        """Cut slow answers short and let held ACKs through, so that the server can stop at once."""
        self._faults.close()
        self._held_acks.release()

    async def wait_for_held_ack(self, timeout_s: float) -> None:
        """Return once an ACK arrives while ACKs are held (the client has published and is acknowledging)."""
        await self._held_acks.wait_for_held(timeout_s)

    # -- request handling -------------------------------------------------------------------------------------

    def _queue(self, username: str) -> deque[dict[str, Any]]:
        if username not in self._queues:
            raise KeyError(f"unknown reseller {username!r}")
        return self._queues[username]

    def _seeded_fault(self) -> Fault | None:
        rates, chance = self.rates, self._faults.chance
        if chance(rates.slow):
            return Fault.SLOW
        if chance(rates.http_5xx):
            return self.rng.choice((Fault.HTTP_500, Fault.HTTP_503))
        if chance(rates.error_reply):
            return self.rng.choice((Fault.CODE_400, Fault.CODE_486))
        if chance(rates.malformed):
            return Fault.MALFORMED
        return None

    def _reply(self, code: int, text: str, attributes: Mapping[str, OpsValue] | None = None) -> Response:
        self._transactions += 1
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        body = encode_reply(
            is_success=code == 200,
            response_code=code,
            response_text=text,
            attributes=attributes,
            transaction_id=f"{stamp} {self._transactions} 101",
        )
        return Response(body, media_type=_XML)

    async def handle(self, request: Request) -> Response:
        """`POST /`: one XCP request."""
        body = await request.body()
        try:
            value = decode_envelope(body)
        except EnvelopeError as exc:
            return self._reply(465, f"Invalid XML: {exc}")
        username = request.headers.get("x-username", "")
        key = self._keys.get(username)
        if key is None or not verify(body, key, request.headers.get("x-signature", "")):
            return self._reply(401, "Authentication Error")
        if not isinstance(value, dict) or value.get("protocol") != "XCP" or value.get("object") != "EVENT":
            return self._reply(430, "Invalid command")
        action = value.get("action")
        attributes = value.get("attributes")
        attrs = attributes if isinstance(attributes, dict) else {}
        if action not in ("POLL", "ACK"):
            return self._reply(430, f"Invalid command: {action}")
        fault = self._faults.draw(action, self._seeded_fault)
        if fault is Fault.SLOW:
            await self._faults.stall(self.rates.slow_s)
        elif fault in (Fault.HTTP_500, Fault.HTTP_503):
            return Response(b"<html><body>Service Unavailable</body></html>", status_code=int(fault.value[-3:]))
        elif fault is Fault.CODE_400:
            return self._reply(400, "Internal server error")
        elif fault is Fault.CODE_486:
            return self._reply(486, "Object is in a processing state, try again shortly")
        if action == "POLL":
            response = self._poll(request, username, attrs)
        else:
            response = await self._ack(request, username, attrs)
        if fault is Fault.MALFORMED:
            return Response(bytes(response.body)[: len(response.body) // 2], media_type=_XML)
        return response

    def _poll(self, request: Request, username: str, attrs: dict[str, OpsValue]) -> Response:
        raw_limit = attrs.get("limit", "1")
        if not isinstance(raw_limit, str) or not raw_limit.isascii() or not raw_limit.isdigit():
            return self._reply(465, "Invalid data: limit")
        limit = int(raw_limit)
        if not 1 <= limit <= MAX_POLL_LIMIT:
            return self._reply(465, f"Invalid data: limit must be 1..{MAX_POLL_LIMIT}")
        peer = request.client
        self.polls_by_connection[f"{peer.host}:{peer.port}" if peer else "?"] += 1
        self.polls_by_user[username] += 1
        events = [as_ops_value(event) for event in list(self._queue(username))[:limit]]
        return self._reply(200, "Command successful", {"events": events})

    async def _ack(self, request: Request, username: str, attrs: dict[str, OpsValue]) -> Response:
        event_id = attrs.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            return self._reply(460, "Missing field: event_id")
        self.ack_attempts[event_id] += 1
        if not await self._held_acks.admit(request):
            return Response(status_code=499)  # nobody is listening; the ACK never reached "OpenSRS"
        queue = self._queue(username)
        for index, event in enumerate(queue):
            if event.get("event_id") == event_id:
                del queue[index]
                self._acks.append(AckRecord(username=username, event_id=event_id, acked_at=time.time()))
                return self._reply(200, "Command successful", {"events_remaining": str(len(queue))})
        return self._reply(480, "Event not found")

    # -- admin routes for demos (JSON) --------------------------------------------------------------------------

    async def admin(self, request: Request) -> Response:
        """`/_sim/{what}?username=`: `generate` (POST, `n`), `events` (POST a JSON list), `queue`, `acked`, `stats`."""
        what = request.path_params["what"]
        username = request.query_params.get("username", next(iter(self._keys), ""))
        try:
            if what == "generate" and request.method == "POST":
                payload: Any = self.generate(username, int(request.query_params.get("n", "10")))
            elif what == "events" and request.method == "POST":
                events = orjson.loads(await request.body())
                if not isinstance(events, list):
                    raise ValueError("expected a JSON list of event objects")
                self.enqueue(username, events)
                payload = {"queued": len(self.queued(username))}
            elif what == "queue":
                payload = self.queued(username)
            elif what == "acked":
                payload = [{"event_id": ack.event_id, "acked_at": ack.acked_at} for ack in self.acked(username)]
            elif what == "stats":
                payload = {
                    "polls_by_user": dict(self.polls_by_user),
                    "polls_by_connection": dict(self.polls_by_connection),
                    "acked": len(self._acks),
                    "faults_served": dict(self.faults_served),
                }
            else:
                return Response(status_code=404)
        except (KeyError, ValueError, orjson.JSONDecodeError) as exc:
            return Response(orjson.dumps({"error": str(exc)}), status_code=400, media_type="application/json")
        return Response(orjson.dumps(payload), media_type="application/json")


def create_simulator_app(simulator: OpenSRSSimulator) -> Starlette:
    """The ASGI app: `POST /` is the XML API, `/_sim/...` the admin routes."""
    return Starlette(
        routes=[
            Route("/", simulator.handle, methods=["POST"]),
            Route("/_sim/{what}", simulator.admin, methods=["GET", "POST"]),
        ]
    )


def serve_simulator(
    simulator: OpenSRSSimulator, host: str = "127.0.0.1", port: int = 0
) -> AbstractAsyncContextManager[str]:
    """Serve `simulator` on `host:port` (0: any free port) inside the running loop; yields its base URL."""
    return serve(create_simulator_app(simulator), host, port, on_close=simulator.close)
