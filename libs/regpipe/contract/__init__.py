"""The canonical event contract other teams consume: taxonomy, envelope, typed data models, ids, partition keys,
the Kafka binding of canonical events (CloudEvents binary mode) and of raw records."""

from regpipe.contract.cloudevents import KafkaRecord, from_kafka_record, to_kafka_record, to_normalized_record
from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.errors import ContractError, InvalidDomainNameError, RecordDecodeError, SealError
from regpipe.contract.events import DATA_MODELS, EventData
from regpipe.contract.ids import canonical_event_id, content_fingerprint
from regpipe.contract.names import normalize_domain, partition_key
from regpipe.contract.raw import RawHeaders, raw_key
from regpipe.contract.sealing import RawSealer, parse_keyring
from regpipe.contract.taxonomy import EventType, Outcome, Source, Transport

__all__ = [
    "DATA_MODELS",
    "CanonicalEvent",
    "ContractError",
    "EventData",
    "EventType",
    "InvalidDomainNameError",
    "KafkaRecord",
    "Lineage",
    "Outcome",
    "RawHeaders",
    "RawSealer",
    "RecordDecodeError",
    "SealError",
    "Source",
    "Transport",
    "canonical_event_id",
    "content_fingerprint",
    "from_kafka_record",
    "normalize_domain",
    "parse_keyring",
    "partition_key",
    "raw_key",
    "to_kafka_record",
    "to_normalized_record",
]
