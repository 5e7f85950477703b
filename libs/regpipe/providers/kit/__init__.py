"""The mapper kit: the steps every provider mapper is written with, each turning a failure into its quarantine reason.

A mapper reads its body (`decode_json`, `decode_json_object`), validates payload models (`parse_payload`), reads
times (`parse_time`) and domain names
(`payload_domain`), reads flat objects field by field (`FieldReader`), and builds its canonical events with one
`EventFactory` per provider event. Error texts name fields, never their values: payloads hold secrets.
"""

from regpipe.providers.kit.domains import domain_of_address, domain_or_none, payload_domain
from regpipe.providers.kit.event_factory import EventFactory, build_event
from regpipe.providers.kit.field_reader import FieldReader, as_text
from regpipe.providers.kit.json_document import decode_json, decode_json_object
from regpipe.providers.kit.times import parse_time, time_value, to_utc
from regpipe.providers.kit.validation import describe_validation_error, parse_payload, schema_violation

__all__ = [
    "EventFactory",
    "FieldReader",
    "as_text",
    "build_event",
    "decode_json",
    "decode_json_object",
    "describe_validation_error",
    "domain_of_address",
    "domain_or_none",
    "parse_payload",
    "parse_time",
    "payload_domain",
    "schema_violation",
    "time_value",
    "to_utc",
]
