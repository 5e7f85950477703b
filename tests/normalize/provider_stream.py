"""Streams of realistic raw records (simulated Cold Mail webhooks, as the receiver would publish them) mixed
with broken ones, and what the normalizer must make of them, computed with the pure processor."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from regpipe.contract.raw import RawHeaders, raw_key
from regpipe.contract.sealing import RawSealer
from regpipe.contract.taxonomy import Source, Transport
from regpipe.normalize.processor import Mapped, Processor
from regpipe.normalize.registry import default_mappers
from regpipe.simulators import coldmail as simulator
from regpipe.streaming.record import RawRecord

__all__ = ["Expected", "RawTuple", "coldmail_stream", "expected_outcome"]

RawTuple = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]

# Broken bodies under Cold Mail headers: invalid JSON, an unknown event type, a schema violation, an invalid
# domain. `{tag}` makes each body (and so its content-hash key) unique.
_BROKEN: tuple[str, ...] = (
    '{{"event": "domain.order.success", "eventId": "{tag}", ',
    '{{"event": "domain.teleported", "eventId": "{tag}", "data": {{}}}}',
    '{{"event": "domain.order.success", "eventId": "{tag}", "data": "none"}}',
    '{{"event": "domain.order.success", "eventId": "{tag}", "data": {{"domain": "a b"}}}}',
)


def _raw(body: bytes, event_id: str | None, event_type: str | None) -> RawTuple:
    headers = RawHeaders(
        source=Source.COLDMAIL,
        transport=Transport.WEBHOOK,
        content_type="application/json",
        provider_event_id=event_id,
        provider_event_type=event_type,
    )
    return raw_key(Source.COLDMAIL, event_id, body).encode(), body, headers.to_kafka()


def coldmail_stream(count: int, *, seed: int = 1, broken_every: int = 20) -> list[RawTuple]:
    """`count` records: simulated webhooks of every Cold Mail type (unique ids), every `broken_every`-th broken."""
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:12].upper()
    records: list[RawTuple] = []
    for index in range(count):
        if broken_every and index % broken_every == broken_every - 1:
            template = _BROKEN[(index // broken_every) % len(_BROKEN)]
            records.append(_raw(template.format(tag=f"{run}-{index}").encode(), None, None))
            continue
        event_type = simulator.VARIANTS[index % len(simulator.VARIANTS)]
        webhook = simulator.build_event(rng, event_type, event_id=f"{run}{index:016d}")
        records.append(_raw(webhook.body, webhook.event_id, webhook.event_type))
    return records


@dataclass(frozen=True, slots=True)
class Expected:
    """The canonical ids that must reach normalized, and the quarantine reason of every other raw key."""

    ids: frozenset[uuid.UUID]
    quarantined: dict[bytes, str]


def expected_outcome(records: Sequence[RawTuple], sealer: RawSealer | None = None) -> Expected:
    """Map `records` with the pure processor and the registered mappers (the stage must deliver exactly this)."""
    processor = Processor(default_mappers(), sealer or RawSealer({}, None))
    ids: set[uuid.UUID] = set()
    quarantined: dict[bytes, str] = {}
    for offset, (key, value, headers) in enumerate(records):
        result = processor.process(RawRecord("raw", 0, offset, key, value, headers))
        if isinstance(result, Mapped):
            ids.update(event.id for event in result.events)
        else:
            quarantined[key or b""] = result.reason.value
    return Expected(ids=frozenset(ids), quarantined=quarantined)
