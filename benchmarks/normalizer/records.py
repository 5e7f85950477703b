"""The benchmark's raw records: simulated Most and Cold Mail webhooks as the webhook receiver publishes them,
with a small share of broken bodies (which the normalizer quarantines)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from regpipe.contract.raw import RawHeaders, raw_key
from regpipe.contract.taxonomy import Source, Transport
from regpipe.simulators import coldmail, most

__all__ = ["RawRecordSpec", "generate"]

_BROKEN = (b'{"event": "domain.order.success", "eventId": ', b'{"type": "domain.teleported", "id": "x", "data": {}}')


@dataclass(frozen=True, slots=True)
class RawRecordSpec:
    """Key, value and headers of one raw record to pre-load."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    source: Source
    broken: bool = False


def _record(
    source: Source, body: bytes, event_id: str | None, event_type: str | None, *, broken: bool = False
) -> RawRecordSpec:
    headers = RawHeaders(
        source=source,
        transport=Transport.WEBHOOK,
        content_type="application/json",
        provider_event_id=event_id,
        provider_event_type=event_type,
    )
    return RawRecordSpec(raw_key(source, event_id, body).encode(), body, headers.to_kafka(), source, broken)


def generate(count: int, *, seed: int = 42, most_share: float = 0.5, broken_share: float = 0.02) -> list[RawRecordSpec]:
    """`count` records cycling through every simulated event type of both providers (unique event ids)."""
    rng = random.Random(seed)
    records: list[RawRecordSpec] = []
    for index in range(count):
        draw = rng.random()
        if draw < broken_share:
            body = _BROKEN[index % len(_BROKEN)] + f" {index}".encode()
            records.append(_record(Source.MOST if index % 2 else Source.COLDMAIL, body, None, None, broken=True))
        elif draw < broken_share + most_share:
            event_type, task_type, status = most.VARIANTS[index % len(most.VARIANTS)]
            hook = most.build_event(rng, event_type, task_type=task_type, status=status)
            records.append(_record(Source.MOST, hook.body, hook.event_id, hook.event_type))
        else:
            variant = coldmail.VARIANTS[index % len(coldmail.VARIANTS)]
            hook = coldmail.build_event(rng, variant, event_id=f"BENCH{seed:05d}{index:018d}")
            records.append(_record(Source.COLDMAIL, hook.body, hook.event_id, hook.event_type))
    return records
