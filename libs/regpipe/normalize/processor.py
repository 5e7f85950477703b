"""The pure core of the normalizer: one raw Kafka record in, canonical event records or one quarantine record out.

Steps, in order, each with its own quarantine reason: parse the raw headers (`invalid_headers`, or
`unknown_source` for a source we do not know), find the source's mapper (`unknown_source`), open the seal
(`unsealable`), map (the `MappingError`'s reason; `invalid_domain` when the contract refuses a domain name, even
wrapped in a data model's `ValidationError`; `nesting_too_deep` / `number_too_large` for shapes no parser reads,
such as the `RecursionError` of a deeply nested payload), encode.

Error policy, after arroyo's "bad record -> dead letter, anything unexpected -> stop before commit", adapted so
that one mapper bug cannot stall a partition: a `MappingError` is a bad record; an ordinary programming error
escaping a mapper or the encoding of its events (`LookupError`, `ValueError` including pydantic's
`ValidationError`, `TypeError`, `AttributeError`, `ArithmeticError`, `AssertionError`, `ContractError`) is
quarantined as `mapper_error` and reported loudly by the stage; anything else (`MemoryError`, `OSError`,
`KeyboardInterrupt`, ...) is not a property of the record and propagates, so the stage stops uncommitted.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from regpipe.contract.cloudevents import KafkaRecord, to_kafka_record
from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.errors import ContractError, InvalidDomainNameError, RecordDecodeError, SealError
from regpipe.contract.raw import RawHeaders
from regpipe.contract.sealing import RawSealer
from regpipe.contract.taxonomy import Source
from regpipe.normalize.registry import Mapper, MapperRegistry
from regpipe.providers.kit import hostile_shapes_quarantined
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from regpipe.streaming.quarantine import QuarantineRecord, build_quarantine_record
from regpipe.streaming.record import ConsumedRecord

__all__ = ["STAGE", "UNKNOWN", "Mapped", "Processor", "Quarantined", "Result"]

#: The stage's name in its quarantine records and metric labels.
STAGE = "normalizer"
#: The `source` label of a record whose headers do not name a known source.
UNKNOWN = "unknown"

_MAPPER_BUGS: tuple[type[Exception], ...] = (
    LookupError,
    ValueError,
    TypeError,
    AttributeError,
    ArithmeticError,
    AssertionError,
    ContractError,
)
_MAX_ERRORS_LISTED = 5


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

    def __init__(self, mappers: MapperRegistry, sealer: RawSealer, *, correction: bool = False) -> None:
        self._mappers = mappers
        self._sealer = sealer
        self._correction = correction

    def process(self, raw: ConsumedRecord, *, lineage: Lineage | None = None) -> Result:
        """Map one record; `lineage` defaults to the record's own position (a redrive passes the original one)."""
        if lineage is None:
            lineage = Lineage(topic=raw.topic, partition=raw.partition, offset=raw.offset)
        try:
            headers = RawHeaders.from_kafka(tuple(raw.headers))
        except RecordDecodeError as exc:
            reason, message = _header_problem(exc)
            return _quarantine(raw, lineage, UNKNOWN, reason, message, None)
        source = headers.source.value
        mapper = self._mappers.get(headers.source)
        if mapper is None:
            message = f"no mapper is registered for source {source!r}"
            return _quarantine(raw, lineage, source, QuarantineReason.UNKNOWN_SOURCE, message, None)
        try:
            body = self._sealer.open(raw.value or b"", headers.seal)
        except SealError as exc:
            return _quarantine(raw, lineage, source, QuarantineReason.UNSEALABLE, str(exc), mapper.version)
        try:
            # Pathological shapes (nesting beyond any parser, 4,300+ digit integers) get their own reasons even
            # from a mapper that does not check them itself; RecursionError would otherwise stop the stage.
            with hostile_shapes_quarantined():
                events = mapper.map_record(RawInput(body=body, headers=headers, lineage=lineage))
                if self._correction:
                    events = [event.model_copy(update={"correction": True}) for event in events]
                records = tuple(to_kafka_record(event) for event in events)
        except MappingError as exc:
            return _quarantine(raw, lineage, source, exc.reason, exc.message, mapper.version)
        except InvalidDomainNameError as exc:
            return _quarantine(raw, lineage, source, QuarantineReason.INVALID_DOMAIN, str(exc), mapper.version)
        except _MAPPER_BUGS as exc:
            if _is_invalid_domain(exc):
                message = "a domain name in the payload is not a valid domain name"
                return _quarantine(raw, lineage, source, QuarantineReason.INVALID_DOMAIN, message, mapper.version)
            message = _describe_bug(exc, mapper)
            reason = QuarantineReason.MAPPER_ERROR
            return _quarantine(raw, lineage, source, reason, message, mapper.version, error=type(exc).__name__)
        return Mapped(source=headers.source, events=tuple(events), records=records)


def _quarantine(
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
    return Quarantined(source=source, reason=reason, message=message, record=record, error=error)


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
