"""The benchmark's input: canonical events as the normalizer writes them to `registrar.normalized.v1` (keyed by
canonical id), mapped from simulated Most and Cold Mail webhooks, with a share sent twice as duplicates."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.normalizer.records import generate
from regpipe.contract.sealing import RawSealer
from regpipe.normalize.processor import Mapped, Processor
from regpipe.normalize.registry import default_mappers
from regpipe.streaming.record import RawRecord

__all__ = ["NormalizedRecord", "normalized_records"]


@dataclass(frozen=True, slots=True)
class NormalizedRecord:
    """Key, value and headers of one record to pre-load."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def normalized_records(raw_count: int, *, seed: int, duplicate_every: int) -> list[NormalizedRecord]:
    """The events of `raw_count` raw records, every `duplicate_every`-th event followed by a copy of itself."""
    processor = Processor(default_mappers(), RawSealer({}, None))
    out: list[NormalizedRecord] = []
    for offset, raw in enumerate(generate(raw_count, seed=seed, broken_share=0.0)):
        result = processor.process(RawRecord("bench.raw", 0, offset, raw.key, raw.value, raw.headers))
        if not isinstance(result, Mapped):
            continue
        for record in result.records:
            out.append(NormalizedRecord(record.key, record.value, list(record.headers)))
            if duplicate_every and len(out) % duplicate_every == 0:
                out.append(out[-1])
    return out
