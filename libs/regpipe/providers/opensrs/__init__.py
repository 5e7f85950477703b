"""Adapter for OpenSRS event notifications, which arrive by two routes: polled from the XML API and mailed to a
reseller's mailbox.

Modules: `payloads`, `mapping` (pure), `client`, `poller` (poll -> publish -> ACK under a lease), `errors`, and
the provider's own protocol: `envelope` (OPS XML codec), `signature` (request signing), `protocol` (EVENT
POLL/ACK requests and replies), `email` (the notification e-mail reader). The simulators of both routes live in
`regpipe.simulators.opensrs`.

Errors (`errors`); `retriable` says whether the same call may succeed later:

    OpenSRSError
    ├── EnvelopeError             bytes that are not a well-formed OPS envelope (or a value XML cannot carry)
    │   └── UnsafeXmlError        entity declarations / external references: refused, never expanded or fetched
    ├── TransportError            no usable reply: connection error, timeout, HTTP error status, garbled reply
    │   └── RefusedReplyError     a reply the hardened parser refuses, with its bytes (the poller keeps it)
    ├── AccountBlockedError       the oldest queued event cannot be polled or ACKed: nothing behind it moves
    └── ReplyError                a REPLY with is_success 0 (retriable for 300, 310, 400, 405, 486)
        └── AuthenticationError   401, 410, 415: credentials or allow-listed IP refused (never retriable)

The mapper raises `regpipe.providers.mapper.MappingError` (quarantine reasons), never these.
"""

from regpipe.providers.opensrs.envelope import OpsValue, decode_envelope, encode_envelope
from regpipe.providers.opensrs.errors import (
    AccountBlockedError,
    AuthenticationError,
    EnvelopeError,
    OpenSRSError,
    RefusedReplyError,
    ReplyError,
    TransportError,
    UnsafeXmlError,
)
from regpipe.providers.opensrs.mapping import MAPPER_VERSION, map_event_object, map_record
from regpipe.providers.opensrs.payloads import KNOWN_EVENTS, OpenSRSEvent, Reply
from regpipe.providers.opensrs.signature import sign, verify

__all__ = [
    "KNOWN_EVENTS",
    "MAPPER_VERSION",
    "AccountBlockedError",
    "AuthenticationError",
    "EnvelopeError",
    "OpenSRSError",
    "OpenSRSEvent",
    "OpsValue",
    "RefusedReplyError",
    "Reply",
    "ReplyError",
    "TransportError",
    "UnsafeXmlError",
    "decode_envelope",
    "encode_envelope",
    "map_event_object",
    "map_record",
    "sign",
    "verify",
]
