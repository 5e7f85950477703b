"""The raw record contract: what an ingestor writes to `registrar.raw.v1` and the normalizer reads back.

The value is the provider's bytes exactly as received (sealed when a raw-record key is configured, see
`regpipe.contract.sealing`); everything we know about how they arrived travels in headers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from regpipe.contract.errors import RecordDecodeError
from regpipe.contract.ids import content_fingerprint
from regpipe.contract.taxonomy import Source, Transport

__all__ = ["EmailAuth", "RawHeaders", "raw_key"]

_H_SOURCE = "source"
_H_TRANSPORT = "transport"
_H_RECEIVED_AT = "received-at"
_H_CONTENT_TYPE = "content-type"
_H_INGEST_ID = "ingest-id"
_H_PROVIDER_EVENT_ID = "provider-event-id"
_H_PROVIDER_EVENT_TYPE = "provider-event-type"
_H_SEAL = "seal"
_H_ACCOUNT = "account"
_H_EMAIL_AUTH = "email-auth"


class EmailAuth(StrEnum):
    """What the IMAP parser found vouching for an e-mail (`docs/email-authentication.md`)."""

    DKIM_PASS = "dkim-pass"  # noqa: S105 - a verdict, no secret: a trusted server saw a DKIM pass of the provider
    UNVERIFIED = "unverified"  # nothing trusted vouches for it: anyone could have sent it


def raw_key(source: Source, provider_event_id: str | None, body: bytes) -> str:
    """`<source>:<provider event id>`, or `<source>:sha256:<hex>` of the body where the provider gives no id."""
    return f"{source.value}:{provider_event_id or content_fingerprint(body)}"


class RawHeaders(BaseModel):
    """The headers of a raw record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Source
    transport: Transport
    received_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    content_type: str = "application/octet-stream"
    ingest_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique per ingest attempt.")
    provider_event_id: str | None = None
    provider_event_type: str | None = None
    account: str | None = Field(default=None, description="Provider account or mailbox the record came from.")
    seal: str | None = Field(default=None, description="Key id the value is sealed with; absent when plain.")
    email_auth: EmailAuth | None = Field(default=None, description="E-mail only: whether a trusted server vouched.")

    def to_kafka(self) -> list[tuple[str, bytes]]:
        """The Kafka headers, UTF-8 encoded, absent values left out."""
        pairs: list[tuple[str, str | None]] = [
            (_H_SOURCE, self.source.value),
            (_H_TRANSPORT, self.transport.value),
            (_H_RECEIVED_AT, self.received_at.astimezone(UTC).isoformat()),
            (_H_CONTENT_TYPE, self.content_type),
            (_H_INGEST_ID, str(self.ingest_id)),
            (_H_PROVIDER_EVENT_ID, self.provider_event_id),
            (_H_PROVIDER_EVENT_TYPE, self.provider_event_type),
            (_H_ACCOUNT, self.account),
            (_H_SEAL, self.seal),
            (_H_EMAIL_AUTH, None if self.email_auth is None else self.email_auth.value),
        ]
        return [(name, value.encode()) for name, value in pairs if value is not None]

    @classmethod
    def from_kafka(cls, headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> RawHeaders:
        """Parse raw-record headers; unknown headers are ignored so producers can add more."""
        by_name = {name: value for name, value in headers}
        fields = {
            "source": _H_SOURCE,
            "transport": _H_TRANSPORT,
            "received_at": _H_RECEIVED_AT,
            "content_type": _H_CONTENT_TYPE,
            "ingest_id": _H_INGEST_ID,
            "provider_event_id": _H_PROVIDER_EVENT_ID,
            "provider_event_type": _H_PROVIDER_EVENT_TYPE,
            "account": _H_ACCOUNT,
            "seal": _H_SEAL,
            "email_auth": _H_EMAIL_AUTH,
        }
        try:
            values = {field: by_name[h].decode() for field, h in fields.items() if h in by_name}
            return cls.model_validate(values)
        except (UnicodeDecodeError, ValidationError) as exc:
            raise RecordDecodeError(f"invalid raw record headers: {exc}") from exc
