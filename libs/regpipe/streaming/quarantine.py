"""The quarantine record of every stage: the record exactly as it was read, plus headers saying why, by which
stage and where from.

Every stage builds its quarantine records here, so a reader of `registrar.quarantine.v1` finds the same headers
whoever wrote one. Value and key are the input record's own (a sealed value stays sealed), so a quarantined raw
record can be redriven through the normalizer once its mapper is fixed. The message header is written for humans
and never holds the body; mappers are asked (by the `MappingError` contract) not to put payload contents into
their messages either, and it is capped in length in case one does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from regpipe.streaming.record import ConsumedRecord, RawRecord
from regpipe.streaming.record_size import record_size

__all__ = [
    "NO_MAPPER",
    "QUARANTINE_HEADERS",
    "TRUNCATED_HEADER",
    "QuarantineInfo",
    "QuarantineRecord",
    "build_quarantine_record",
    "fit_quarantine_record",
    "read_quarantine_record",
]

_H_REASON = "quarantine-reason"
_H_MESSAGE = "quarantine-message"
_H_STAGE = "quarantine-stage"
_H_MAPPER_VERSION = "mapper-version"
_H_RAW_TOPIC = "raw-topic"
_H_RAW_PARTITION = "raw-partition"
_H_RAW_OFFSET = "raw-offset"
_H_QUARANTINED_AT = "quarantined-at"

#: The headers a stage adds to the quarantined record's own.
QUARANTINE_HEADERS: frozenset[str] = frozenset(
    {
        _H_REASON,
        _H_MESSAGE,
        _H_STAGE,
        _H_MAPPER_VERSION,
        _H_RAW_TOPIC,
        _H_RAW_PARTITION,
        _H_RAW_OFFSET,
        _H_QUARANTINED_AT,
    }
)

#: `mapper-version` of a record no mapper was tried on (bad headers, unknown source, unsealable, not an event).
NO_MAPPER = "none"

_MAX_MESSAGE = 1024

#: Set (to the original value's length) on a quarantine record whose value was cut to fit its topic.
TRUNCATED_HEADER = "quarantine-truncated"
#: How much of a value too large for the quarantine topic is kept, at most.
_MAX_EXCERPT = 64 * 1024


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """Key, value and headers of one record for `registrar.quarantine.v1`."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class QuarantineInfo:
    """What the quarantine headers of a record say."""

    reason: str
    message: str
    stage: str
    mapper_version: str
    quarantined_at: str


def build_quarantine_record(
    raw: ConsumedRecord,
    *,
    stage: str,
    reason: str,
    message: str,
    mapper_version: str | None,
    lineage: tuple[str, int, int] | None = None,
    now: datetime | None = None,
) -> QuarantineRecord:
    """Quarantine `raw` on behalf of `stage`: its key, value and headers, plus the quarantine headers.

    `lineage` (topic, partition, offset) defaults to where `raw` was read; a redriven record passes the position
    of the original raw record instead. Quarantine headers `raw` already carries (a record quarantined again) are
    replaced, not repeated.
    """
    topic, partition, offset = lineage if lineage is not None else (raw.topic, raw.partition, raw.offset)
    headers = [(name, value) for name, value in raw.headers if name not in QUARANTINE_HEADERS]
    headers += [
        (_H_REASON, reason.encode()),
        (_H_MESSAGE, message[:_MAX_MESSAGE].encode(errors="replace")),
        (_H_STAGE, stage.encode()),
        (_H_MAPPER_VERSION, (mapper_version or NO_MAPPER).encode()),
        (_H_RAW_TOPIC, topic.encode()),
        (_H_RAW_PARTITION, str(partition).encode()),
        (_H_RAW_OFFSET, str(offset).encode()),
        (_H_QUARANTINED_AT, (now or datetime.now(UTC)).isoformat().encode()),
    ]
    return QuarantineRecord(key=raw.key, value=raw.value, headers=headers)


def fit_quarantine_record(record: QuarantineRecord, *, max_bytes: int) -> QuarantineRecord:
    """`record` itself if it fits `max_bytes` (as the producer sizes it), else the same with a bounded excerpt.

    A record just under the input topic's limit grows past it by the quarantine headers; rather than failing the
    batch on every restart, its value is cut to an excerpt of at most 64 KiB, and `quarantine-truncated` says how
    long it was. If even the headers do not fit, the record's own headers are dropped too (the quarantine headers
    stay).
    """
    size = record_size(record.key, record.value, record.headers)
    if size <= max_bytes:
        return record
    value = record.value or b""
    headers = [*record.headers, (TRUNCATED_HEADER, str(len(value)).encode())]
    room = max_bytes - record_size(record.key, b"", headers) - 16
    if room < 0:
        headers = [(name, data) for name, data in headers if name in QUARANTINE_HEADERS or name == TRUNCATED_HEADER]
        room = max_bytes - record_size(record.key, b"", headers) - 16
    return QuarantineRecord(key=record.key, value=value[: max(0, min(room, _MAX_EXCERPT))], headers=headers)


def read_quarantine_record(record: ConsumedRecord) -> tuple[QuarantineInfo, RawRecord]:
    """Split a quarantine record into its quarantine headers and the raw record it was made from.

    The raw record comes back at its original position (`raw-*` headers), so events mapped from it on a redrive
    carry the same lineage as if they had been mapped the first time. Unreadable quarantine headers (a record
    not written by a stage) leave the position at the quarantine record's own.
    """
    extra = {name: value for name, value in record.headers if name in QUARANTINE_HEADERS}
    raw_headers = [(name, value) for name, value in record.headers if name not in QUARANTINE_HEADERS]

    def text(name: str) -> str:
        return extra.get(name, b"").decode(errors="replace")

    try:
        position = (text(_H_RAW_TOPIC), int(text(_H_RAW_PARTITION)), int(text(_H_RAW_OFFSET)))
    except ValueError:
        position = (record.topic, record.partition, record.offset)
    info = QuarantineInfo(
        reason=text(_H_REASON),
        message=text(_H_MESSAGE),
        stage=text(_H_STAGE),
        mapper_version=text(_H_MAPPER_VERSION),
        quarantined_at=text(_H_QUARANTINED_AT),
    )
    raw = RawRecord(
        topic=position[0] or record.topic,
        partition=position[1],
        offset=position[2],
        key=record.key,
        value=record.value,
        headers=raw_headers,
    )
    return info, raw
