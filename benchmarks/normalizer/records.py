"""The benchmark's raw records: simulated Most and Cold Mail webhooks as the webhook receiver publishes them,
with a small share of broken bodies (which the normalizer quarantines); and what the normalizer writes for each,
which the fan-out-matched pass-through writes too."""

from __future__ import annotations

import pickle
import random
from dataclasses import dataclass
from pathlib import Path

from regpipe.contract.raw import RawHeaders, raw_key
from regpipe.contract.sealing import RawSealer
from regpipe.contract.taxonomy import Source, Transport
from regpipe.normalize import Mapped, Processor, default_mappers
from regpipe.simulators import coldmail, most
from regpipe.streaming import RawRecord

__all__ = ["Outputs", "RawRecordSpec", "expected_outputs", "generate", "read_outputs", "write_outputs"]

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


#: What the normalizer writes for one raw record: ("normalized" | "quarantine", key, value, headers) each.
Outputs = dict[bytes, list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]]]


def expected_outputs(records: list[RawRecordSpec], topic: str) -> Outputs:
    """The records the normalizer writes for each raw record (keyed by raw key), as the stage's own `Processor`
    maps them here; lineage offsets are the records' indexes, so header sizes match within a few bytes."""
    processor = Processor(default_mappers(), RawSealer({}, None))
    outputs: Outputs = {}
    for index, spec in enumerate(records):
        result = processor.process(RawRecord(topic, 0, index, spec.key, spec.value, spec.headers))
        if isinstance(result, Mapped):
            outputs[spec.key] = [("normalized", r.key, r.value, list(r.headers)) for r in result.records]
        else:
            record = result.record
            outputs[spec.key] = [("quarantine", record.key, record.value or b"", list(record.headers))]
    return outputs


def write_outputs(outputs: Outputs, path: Path) -> None:
    """Save `outputs` for the pass-through process (a local file this benchmark wrote itself)."""
    path.write_bytes(pickle.dumps(outputs, protocol=pickle.HIGHEST_PROTOCOL))


def read_outputs(path: Path) -> Outputs:
    """Load what `write_outputs` saved."""
    outputs: Outputs = pickle.loads(path.read_bytes())  # noqa: S301  # written by this benchmark, never received
    return outputs
