"""The mapper kit: the steps every provider mapper is written with, each turning a failure into its quarantine reason.

A mapper reads its body (`decode_json`, `decode_json_object`), validates payload models (`parse_payload`), reads
times (`parse_time`, and `IsoTime` / `IsoOrUnixSecondsTime` in payload models), domain names (`payload_domain`)
and error values (`provider_error`), reads flat objects field by field (`FieldReader`), and builds its canonical
events with one `EventFactory` per provider event. `quarantines_hostile_shapes` wraps a mapper so that nesting
too deep for any parser and integers too long to read become quarantine reasons, not escaping exceptions. Events
that carry credentials are read by allow-list (`withhold_known_secrets`, `screen_kept_strings`). Error texts name
fields, never their values: payloads hold secrets.
"""

from regpipe.providers.kit.document_limits import (
    MAX_NESTING,
    check_nesting,
    hostile_shapes_quarantined,
    quarantines_hostile_shapes,
)
from regpipe.providers.kit.domains import domain_of_address, domain_or_none, payload_domain
from regpipe.providers.kit.event_factory import EventFactory, build_event
from regpipe.providers.kit.field_reader import FieldReader, as_text
from regpipe.providers.kit.json_document import DecodedObject, decode_json, decode_json_object
from regpipe.providers.kit.provider_errors import provider_error
from regpipe.providers.kit.secret_bearing import (
    screen_kept_strings,
    withhold_known_secrets,
)
from regpipe.providers.kit.times import IsoOrUnixSecondsTime, IsoTime, NumericTime, parse_time, time_value, to_utc
from regpipe.providers.kit.validation import describe_validation_error, parse_payload, schema_violation

__all__ = [
    "MAX_NESTING",
    "DecodedObject",
    "EventFactory",
    "FieldReader",
    "IsoOrUnixSecondsTime",
    "IsoTime",
    "NumericTime",
    "as_text",
    "build_event",
    "check_nesting",
    "decode_json",
    "decode_json_object",
    "describe_validation_error",
    "domain_of_address",
    "domain_or_none",
    "hostile_shapes_quarantined",
    "parse_payload",
    "parse_time",
    "payload_domain",
    "provider_error",
    "quarantines_hostile_shapes",
    "schema_violation",
    "screen_kept_strings",
    "time_value",
    "to_utc",
    "withhold_known_secrets",
]
