"""The pure core of the normalizer: one raw Kafka record in, canonical event records or one quarantine record out.

Steps, in order, each with its own quarantine reason: parse the raw headers (`invalid_headers`, or
`unknown_source` for a source we do not know), find the source's mapper (`unknown_source`), open the seal
(`unsealable`), map (the `MappingError`'s reason; `invalid_domain` when the contract refuses a domain name, even
wrapped in a data model's `ValidationError`; `nesting_too_deep` / `number_too_large` for shapes no parser reads,
such as the `RecursionError` of a deeply nested payload), encode, check the size of what would be written
(`too_large` when an event exceeds what its topic takes).

Error policy, after arroyo's "bad record -> dead letter, anything unexpected -> stop before commit", adapted so
that no record can stall a partition: a `MappingError` is a bad record; any other exception a record makes a
mapper or the encoding raise (a programming error, or a library's surprise on hostile input) is quarantined as
`mapper_error` and reported loudly by the stage. Mappers are pure and do no I/O, so only `MemoryError` and what
is not an `Exception` (`KeyboardInterrupt`, `SystemExit`) propagate: those are the process's, not the record's.
A quarantine record that would not fit its topic (the raw record was just under the limit) keeps a bounded
excerpt of the value and its lineage (`fit_quarantine_record`).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from regpipe.contract.cloudevents import KafkaRecord, to_normalized_record
from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.errors import InvalidDomainNameError, RecordDecodeError, SealError
from regpipe.contract.raw import RawHeaders
from regpipe.contract.sealing import RawSealer
from regpipe.contract.taxonomy import Source
from regpipe.kafka.topics import MAX_RECORD_BYTES
from regpipe.normalize.registry import Mapper, MapperRegistry
from regpipe.providers.kit import hostile_shapes_quarantined
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from regpipe.streaming.quarantine import QuarantineRecord, build_quarantine_record, fit_quarantine_record
from regpipe.streaming.record import ConsumedRecord
from regpipe.streaming.record_size import record_size

__all__ = ["STAGE", "UNKNOWN", "Mapped", "Processor", "Quarantined", "Result", "normalized_record"]

#: The stage's name in its quarantine records and metric labels.
STAGE = "normalizer"
#: The `source` label of a record whose headers do not name a known source.
UNKNOWN = "unknown"

_MAX_ERRORS_LISTED = 5
#: Room left under a topic's limit for headers a stage adds after mapping (trace context).
_HEADER_HEADROOM = 1024


@dataclass(frozen=True, slots=True)
class Mapped:
    """The record mapped to zero or more canonical events, already encoded for `registrar.normalized.v1`."""

    source: Source
    events: tuple[CanonicalEvent, ...]
    records: tuple[KafkaRecord, ...]


@dataclass(frozen=True, slots=True)
class Quarantined:
    """The record could not be mapped; `record` is what goes to `registrar.quarantine.v1`.

    `error` names the exception type of a `mapper_error` (None otherwise), for metrics and logs.
    """

    source: str
    reason: QuarantineReason
    message: str
    record: QuarantineRecord
    error: str | None = None


Result = Mapped | Quarantined


class Processor:
    """Maps raw records with the registry's mappers; never raises for anything a record can contain."""

    def __init__(
        self,
        mappers: MapperRegistry,
        sealer: RawSealer,
        *,
        correction: bool = False,
        max_event_bytes: int = MAX_RECORD_BYTES,
        max_quarantine_bytes: int = MAX_RECORD_BYTES,
    ) -> None:
        self._mappers = mappers
        self._sealer = sealer
        self._correction = correction
        self._max_event_bytes = max_event_bytes - _HEADER_HEADROOM
        self._max_quarantine_bytes = max_quarantine_bytes - _HEADER_HEADROOM

    def process(self, raw: ConsumedRecord, *, lineage: Lineage | None = None) -> Result:
        """Map one record; `lineage` defaults to the record's own position (a redrive passes the original one)."""
        if lineage is None:
            lineage = Lineage(topic=raw.topic, partition=raw.partition, offset=raw.offset)
        try:
            result = self._process(raw, lineage)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001  # quarantined with the error's type, and logged by the stage
            # Outside any mapper (headers, unsealing): still the record's doing, never a reason to stop.
            message = f"{type(exc).__name__} while reading the raw record"
            reason = QuarantineReason.MAPPER_ERROR
            return self._quarantine(raw, lineage, UNKNOWN, reason, message, None, error=type(exc).__name__)
        if isinstance(result, Quarantined):
            return result
        too_large = next((r for r in result.records if self._record_bytes(r) > self._max_event_bytes), None)
        if too_large is not None:
            message = (
                f"a canonical {result.events[result.records.index(too_large)].type.value} event would be "
                f"{self._record_bytes(too_large)} bytes; its topic takes at most {self._max_event_bytes}"
            )
            mapper = self._mappers[result.source]
            return self._quarantine(
                raw, lineage, result.source.value, QuarantineReason.TOO_LARGE, message, mapper.version
            )
        return result

    def quarantine_timed_out(self, raw: ConsumedRecord, seconds: float) -> Quarantined:
        """The quarantine record of `raw` whose mapping was abandoned after `seconds` (the stage's deadline)."""
        lineage = Lineage(topic=raw.topic, partition=raw.partition, offset=raw.offset)
        try:
            headers = RawHeaders.from_kafka(tuple(raw.headers))
        except RecordDecodeError:
            source, version = UNKNOWN, None
        else:
            mapper = self._mappers.get(headers.source)
            source, version = headers.source.value, None if mapper is None else mapper.version
        message = f"mapping took longer than the deadline of {seconds:g} s"
        return self._quarantine(raw, lineage, source, QuarantineReason.DEADLINE_EXCEEDED, message, version)

    @staticmethod
    def _record_bytes(record: KafkaRecord) -> int:
        return record_size(record.key, record.value, record.headers)

    def _process(self, raw: ConsumedRecord, lineage: Lineage) -> Result:
        try:
            headers = RawHeaders.from_kafka(tuple(raw.headers))
        except RecordDecodeError as exc:
            reason, message = _header_problem(exc)
            return self._quarantine(raw, lineage, UNKNOWN, reason, message, None)
        source = headers.source.value
        mapper = self._mappers.get(headers.source)
        if mapper is None:
            message = f"no mapper is registered for source {source!r}"
            return self._quarantine(raw, lineage, source, QuarantineReason.UNKNOWN_SOURCE, message, None)
        try:
            body = self._sealer.open(raw.value or b"", headers.seal)
        except SealError as exc:
            return self._quarantine(raw, lineage, source, QuarantineReason.UNSEALABLE, str(exc), mapper.version)
        try:
            # Pathological shapes (nesting beyond any parser, 4,300+ digit integers) get their own reasons even
            # from a mapper that does not check them itself; RecursionError would otherwise stop the stage.
            with hostile_shapes_quarantined():
                events = mapper.map_record(RawInput(body=body, headers=headers, lineage=lineage))
                if self._correction:
                    events = [event.model_copy(update={"correction": True}) for event in events]
                records = tuple(normalized_record(event) for event in events)
        except MappingError as exc:
            return self._quarantine(raw, lineage, source, exc.reason, exc.message, mapper.version)
        except InvalidDomainNameError as exc:
            return self._quarantine(raw, lineage, source, QuarantineReason.INVALID_DOMAIN, str(exc), mapper.version)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001  # quarantined as mapper_error, and logged loudly by the stage
            if _is_invalid_domain(exc):
                message = "a domain name in the payload is not a valid domain name"
                return self._quarantine(raw, lineage, source, QuarantineReason.INVALID_DOMAIN, message, mapper.version)
            message = _describe_bug(exc, mapper)
            reason = QuarantineReason.MAPPER_ERROR
            return self._quarantine(raw, lineage, source, reason, message, mapper.version, error=type(exc).__name__)
        return Mapped(source=headers.source, events=tuple(events), records=records)

    def _quarantine(
        self,
        raw: ConsumedRecord,
        lineage: Lineage,
        source: str,
        reason: QuarantineReason,
        message: str,
        mapper_version: str | None,
        *,
        error: str | None = None,
    ) -> Quarantined:
        record = build_quarantine_record(
            raw,
            stage=STAGE,
            reason=reason.value,
            message=message,
            mapper_version=mapper_version,
            lineage=(lineage.topic, lineage.partition, lineage.offset),
        )
        # A raw record just under its topic's limit grows past the quarantine topic's by the quarantine headers.
        record = fit_quarantine_record(record, max_bytes=self._max_quarantine_bytes)
        return Quarantined(source=source, reason=reason, message=message, record=record, error=error)


def normalized_record(event: CanonicalEvent) -> KafkaRecord:
    """`event` as a record of the normalized topic, keyed by its canonical id rather than its partition key, so
    every copy of one id, whatever its domain, reaches the same deduplicator partition (`docs/stages.md`)."""
    return to_normalized_record(event)


def _header_problem(exc: RecordDecodeError) -> tuple[QuarantineReason, str]:
    # The contract's message quotes header values; the fields and pydantic's messages say enough without them.
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        errors = cause.errors(include_url=False, include_context=False, include_input=False)
        if any(error["loc"] == ("source",) and error["type"] == "enum" for error in errors):
            return QuarantineReason.UNKNOWN_SOURCE, "the source header names no known source"
        listed = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:_MAX_ERRORS_LISTED])
        return QuarantineReason.INVALID_HEADERS, f"invalid raw record headers: {listed}"
    return QuarantineReason.INVALID_HEADERS, "raw record headers are not UTF-8"


def _is_invalid_domain(exc: Exception) -> bool:
    # A data model refusing a domain name (pydantic wraps the contract's error) is bad data, not a mapper bug.
    if not isinstance(exc, ValidationError):
        return False
    errors = exc.errors(include_url=False, include_input=False)
    return bool(errors) and all(isinstance(e.get("ctx", {}).get("error"), InvalidDomainNameError) for e in errors)


def _describe_bug(exc: Exception, mapper: Mapper) -> str:
    # Where it broke and which fields, never the exception's own text: it may quote payload values (secrets).
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    detail = ""
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        detail = ": " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in errors[:_MAX_ERRORS_LISTED])
    return f"{type(exc).__name__} escaped the {mapper.source.value} mapper {mapper.version}{where}{detail}"
