"""The OpenSRS payloads we read: the REPLY of an API call and the event object (by poll or by e-mail)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = ["KNOWN_EVENTS", "OpenSRSEvent", "Reply"]

#: Every (OBJECT, EVENT) pair OpenSRS is known to send: the seed's table, plus the two seen in public client code.
KNOWN_EVENTS: tuple[tuple[str, str], ...] = (
    ("DOMAIN", "CREATED"),
    ("DOMAIN", "REGISTERED"),
    ("DOMAIN", "RENEWED"),
    ("DOMAIN", "EXPIRED"),
    ("DOMAIN", "DELETED"),
    ("DOMAIN", "NAMESERVER_UPDATE"),
    ("DOMAIN", "ZONE_CHECK_STATUS_CHANGE"),
    ("DOMAIN", "REGISTRANT_VERIFICATION_STATUS_CHANGE"),
    ("DOMAIN", "ICANN_TRADE_STATUS_CHANGE"),
    # Its OBJECT is undocumented; public client code reads `domain_name` from it, so DOMAIN is our assumption.
    ("DOMAIN", "MESSAGE_STATUS_CHANGE"),
    ("ORDER", "STATUS_CHANGE"),
    ("ORDER", "CLAIM_STATUS_CHANGE"),
    ("TRANSFER", "STATUS_CHANGE"),
)


class Reply(BaseModel):
    """The data block of an OpenSRS REPLY envelope (`is_success` and `response_code` arrive as "1"/"200")."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    protocol: str | None = None
    object: str | None = None
    action: str
    is_success: bool
    response_code: int
    response_text: str | None = None
    transaction_id: str | None = None
    attributes: dict[str, JsonValue] = Field(default_factory=dict)


class OpenSRSEvent(BaseModel):
    """One event notification, shaped alike in a poll reply (all values strings) and in an e-mail (JSON).

    Fields beyond the five documented ones are kept (`model_extra`) so the mapper never drops them.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    event: str = Field(min_length=1, description="e.g. CREATED, STATUS_CHANGE")
    event_id: str = Field(min_length=1, description="32 hex digits in every example; not enforced")
    event_date: str | None = Field(default=None, description="ISO 8601 UTC")
    object: str = Field(min_length=1, description="DOMAIN, ORDER, TRANSFER, ...")
    object_data: dict[str, JsonValue] = Field(default_factory=dict)

    @property
    def provider_type(self) -> str:
        """`<OBJECT>.<EVENT>`, e.g. `DOMAIN.CREATED`: the provider event type of the canonical event."""
        return f"{self.object}.{self.event}"
