"""The state of a simulated OpusDNS account: its events (pending or acknowledged), API keys, OAuth clients and
issued tokens, the faults to serve, held acknowledgements, and the log of answered requests. No HTTP here: `api`
turns requests into calls on this state, and tests drive it directly (`enqueue`, `fail_next`, `hold_acks`...).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from regpipe.simulators.kit.faults import FaultPlan
from regpipe.simulators.kit.held_acks import HeldAcks
from regpipe.simulators.opusdns.events import EventFactory

__all__ = [
    "ALL_PERMISSIONS",
    "AckRecord",
    "Endpoint",
    "EventPage",
    "Fault",
    "FaultRates",
    "OpusDnsSimulator",
    "RequestRecord",
]

ALL_PERMISSIONS: Final = frozenset({"events:read", "events:manage"})


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


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of a listing, with OpusDNS's pagination object."""

    results: list[dict[str, Any]]
    pagination: dict[str, Any]


def _as_datetime(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


class OpusDnsSimulator:
    """One simulated account; serve it with `regpipe.simulators.opusdns.api.serve_simulator`."""

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
        self.rng = random.Random(seed)
        self.factory = EventFactory(self.rng, clock=datetime.now(UTC), realtime=True)
        self.rates = rates or FaultRates()
        self._events: dict[str, dict[str, Any]] = {}
        self._faults: FaultPlan[Fault, Endpoint] = FaultPlan(self.rng)
        self._acks: list[AckRecord] = []
        self._held_acks = HeldAcks()
        self.requests: list[RequestRecord] = []
        self.tokens_issued = 0

    # -- what tests and demos do ---------------------------------------------------------------------------------

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

    @property
    def event_count(self) -> int:
        """How many events the account holds, acknowledged or not."""
        return len(self._events)

    def redeliver(self, event_id: str) -> None:
        """Make an acknowledged event pending again (a provider-side duplicate)."""
        self._events[event_id]["acknowledged_on"] = None

    def revoke_tokens(self) -> None:
        """Invalidate every Bearer token issued so far (as a credential rotation would)."""
        self._tokens.clear()

    @property
    def faults_served(self) -> Counter[Fault]:
        """How many times each fault was served, scripted or drawn."""
        return self._faults.served

    @property
    def faults_scripted(self) -> int:
        """Scripted faults not served yet."""
        return self._faults.scripted

    def fail_next(self, fault: Fault, count: int = 1, *, endpoint: Endpoint | None = None) -> None:
        """Misbehave with `fault` on the next `count` requests (to `endpoint`, if given)."""
        self._faults.script(fault, count, target=endpoint)

    def hold_acks(self) -> None:
        """Make acknowledgements wait (unapplied) until `release_acks`; one whose client went away is never
        applied."""
        self._held_acks.hold()

    def release_acks(self) -> None:
        """Let held and future acknowledgements through."""
        self._held_acks.release()

    async def wait_for_held_ack(self, timeout_s: float) -> None:
        """Return once an acknowledgement arrives while they are held (the client has published its page)."""
        await self._held_acks.wait_for_held(timeout_s)

    def close(self) -> None:
        """Cut slow answers short and let held acknowledgements through, so that a server can stop at once."""
        self._faults.close()
        self._held_acks.release()

    def user_agents(self, endpoint: Endpoint = Endpoint.LIST, *, since: float = 0.0) -> Counter[str]:
        """How many requests to `endpoint` each User-Agent made since `since` (Unix time)."""
        return Counter(r.user_agent for r in self.requests if r.endpoint is endpoint and r.at >= since)

    # -- what the API does ---------------------------------------------------------------------------------------

    @property
    def held_acks(self) -> HeldAcks:
        """The gate acknowledgements pass (the API waits on it)."""
        return self._held_acks

    def draw_fault(self, endpoint: Endpoint) -> Fault | None:
        """The fault the next request to `endpoint` gets: a scripted one first, else one drawn at `rates`."""
        return self._faults.draw(endpoint, lambda: self._seeded_fault(endpoint))

    async def stall(self) -> None:
        """A slow answer's wait (`rates.slow_s`, cut short by `close`)."""
        await self._faults.stall(self.rates.slow_s)

    def permissions(self, *, api_key: str | None, bearer: str | None) -> frozenset[str] | None:
        """What an API key (or else a live Bearer token) may do; None for unknown credentials."""
        if api_key is not None:
            return self._api_keys.get(api_key)
        if bearer is not None:
            grant = self._tokens.get(bearer)
            if grant is not None and grant[1] > time.monotonic():
                return grant[0]
        return None

    def issue_token(self, client_id: str, client_secret: Any) -> str | None:
        """A new Bearer token for a known client with the right secret, valid `token_ttl_s`; else None."""
        client = self._clients.get(client_id)
        if client is None or client[0] != client_secret:
            return None
        token = "eyJ" + self.rng.randbytes(24).hex()
        self._tokens[token] = (client[1], time.monotonic() + self.token_ttl_s)
        self.tokens_issued += 1
        return token

    def list_events(
        self,
        *,
        page: int,
        page_size: int,
        by_object_id: bool,
        descending: bool,
        filters: Mapping[str, str | None],
        acknowledged: bool,
    ) -> EventPage:
        """One page of the events matching `filters` (None: any value) and `acknowledged`, sorted by creation time
        (or by object id)."""
        selected = [
            event
            for event in self._events.values()
            if (event["acknowledged_on"] is not None) == acknowledged
            and all(value is None or event.get(name) == value for name, value in filters.items())
        ]
        if by_object_id:
            selected.sort(
                key=lambda event: (event["object_id"] or "", event["created_on"], event["event_id"]),
                reverse=descending,
            )
        else:
            selected.sort(key=lambda event: (event["created_on"], event["event_id"]), reverse=descending)
        total = len(selected)
        total_pages = math.ceil(total / page_size)
        results = selected[(page - 1) * page_size : page * page_size]
        if results and self._faults.chance(self.rates.duplicate):
            results = [*results, self.rng.choice(results)]
        pagination = {
            "total_pages": total_pages,
            "total_items": total,
            "current_page": page,
            "page_size": page_size,
            "has_next_page": page < total_pages,
            "has_previous_page": page > 1,
        }
        return EventPage(results, pagination)

    def find(self, event_id: str) -> dict[str, Any] | None:
        """The event with this id, acknowledged or not."""
        return self._events.get(event_id)

    def acknowledge(self, event: dict[str, Any]) -> bool:
        """Acknowledge `event` now; False if it already was (OpusDNS then answers 404)."""
        if event["acknowledged_on"] is not None:
            return False
        event["acknowledged_on"] = datetime.now(UTC)
        self._acks.append(AckRecord(event["event_id"], time.time()))
        return True

    def record(self, endpoint: Endpoint, status: int, user_agent: str, query: str) -> None:
        """Log one answered request."""
        self.requests.append(RequestRecord(endpoint, status, user_agent, time.time(), query))

    def _seeded_fault(self, endpoint: Endpoint) -> Fault | None:
        rates, chance = self.rates, self._faults.chance
        if chance(rates.slow):
            return Fault.SLOW
        if chance(rates.rate_limited):
            return Fault.RATE_LIMITED
        if chance(rates.http_5xx):
            return self.rng.choice((Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503))
        if chance(rates.malformed) and endpoint in (Endpoint.LIST, Endpoint.GET):
            return Fault.MALFORMED
        return None
