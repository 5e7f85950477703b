"""Data models of domain lifecycle events: registration, renewal, expiry, deletion, nameservers, auth info,
blocks and complaints, transfers, verification and the other registry-side state changes of one domain."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from regpipe.contract.events.base import DomainName, EventData, User, known_values, pii

__all__ = [
    "DomainAuthInfoFailed",
    "DomainAuthInfoRetrieved",
    "DomainBlocked",
    "DomainComplaintReceived",
    "DomainCreated",
    "DomainDeleted",
    "DomainDeleting",
    "DomainDeletionFailed",
    "DomainEventData",
    "DomainExpired",
    "DomainExpiring",
    "DomainModificationFailed",
    "DomainModified",
    "DomainNameserversUpdateFailed",
    "DomainNameserversUpdated",
    "DomainOperationNotification",
    "DomainRegistered",
    "DomainRegistrantChangeStatusChanged",
    "DomainRegistrationFailed",
    "DomainRenewalFailed",
    "DomainRenewed",
    "DomainTransferStatusChanged",
    "DomainTransit",
    "DomainVerificationStatusChanged",
    "DomainWithdrawn",
    "DomainZoneCheckStatusChanged",
    "VerificationDeadline",
    "VerificationRegistrant",
]


class DomainEventData(EventData):
    """Fields every event about one domain has.

    `domain` is absent only when the provider names the domain solely by its own id (some OpusDNS events carry
    a TypeID such as `dom_01h…` as their object id); `domain_id` is then set.
    """

    domain: DomainName | None = Field(default=None, description="Domain name, lower case, IDNA (punycode) form.")
    domain_id: str | None = Field(default=None, description="The provider's id of the domain, if it sent one.")

    @model_validator(mode="after")
    def _names_the_domain(self) -> DomainEventData:
        if self.domain is None and not self.domain_id:
            raise ValueError("a domain event needs a domain name or a provider domain id")
        return self


class _TaskItemRef(DomainEventData):
    """Fields of a per-domain event fanned out of a bulk task (Most `task.completed`)."""

    task_id: str | None = Field(default=None, description="The bulk task this item belongs to (Most).")
    item_index: int | None = Field(default=None, ge=0, description="Position of this item in the task's results.")


class DomainCreated(DomainEventData):
    """Emitted when a domain is added to the provider account for any reason (registration, transfer-in,
    redemption, back-end import)."""

    expires_at: AwareDatetime | None = Field(default=None, description="Registration expiry date.")


class DomainRegistered(DomainEventData):
    """Emitted when a domain registration has completed at the registry."""

    registered_at: AwareDatetime | None = Field(default=None, description="When the registration completed.")
    expires_at: AwareDatetime | None = Field(default=None, description="Registration expiry date.")
    period_years: int | None = Field(default=None, ge=0, description="Years registered for.")
    order_id: str | None = Field(default=None, description="The provider's order id.")
    price: Decimal | None = Field(default=None, description="Price charged, in `currency` (or the account's).")
    currency: str | None = Field(default=None, description="ISO 4217 code of `price`, when the provider says.")
    user: User | None = Field(default=None, description="The provider's end user who ordered the domain.")


class DomainRegistrationFailed(DomainEventData):
    """Emitted when a registration order fails or is canceled (outcome `failure` or `canceled`)."""

    order_id: str | None = Field(default=None, description="The provider's order id.")
    price: Decimal | None = Field(default=None, description="Price that was to be charged.")
    currency: str | None = Field(default=None, description="ISO 4217 code of `price`, when the provider says.")
    user: User | None = Field(default=None, description="The provider's end user who ordered the domain.")


class DomainRenewed(_TaskItemRef):
    """Emitted when a renewal (automatic or ordered) has been processed."""

    expires_at: AwareDatetime | None = Field(default=None, description="New expiry date after the renewal.")
    period_years: int | None = Field(default=None, ge=0, description="Years renewed for.")
    order_id: str | None = Field(default=None, description="The provider's order id.")
    price: Decimal | None = Field(default=None, description="Price charged.")
    currency: str | None = Field(default=None, description="ISO 4217 code of `price`, when the provider says.")
    user: User | None = Field(default=None, description="The provider's end user.")


class DomainRenewalFailed(_TaskItemRef):
    """Emitted when a renewal was attempted and rejected (outcome `failure` or `canceled`)."""

    period_years: int | None = Field(default=None, ge=0, description="Years the renewal was attempted for.")
    order_id: str | None = Field(default=None, description="The provider's order id.")
    user: User | None = Field(default=None, description="The provider's end user.")


class DomainExpiring(DomainEventData):
    """A reminder that a domain approaches its expiry date."""

    checkpoint: int | None = Field(
        default=None,
        description="Days-before-expiry checkpoint that fired (stable; prefer it to days_left). "
        "Documented values (Most): 30, 7, 6, 5, 4, 3, 2, 1.",
        json_schema_extra={"x-known-values": [30, 7, 6, 5, 4, 3, 2, 1]},
    )
    days_left: float | None = Field(default=None, description="Exact real-time delta to expiry, in days.")
    expires_at: AwareDatetime | None = Field(default=None, description="Registration expiry date.")


class DomainExpired(DomainEventData):
    """Emitted when a domain reached its expiry date (day 0) without being renewed."""

    expires_at: AwareDatetime | None = Field(default=None, description="The expiry date that passed.")


class DomainDeleting(DomainEventData):
    """Emitted once per expiry period when an expired domain is about to be removed by the registrar (the last
    chance to renew)."""

    expires_at: AwareDatetime | None = Field(default=None, description="The expiry date that passed.")
    deletes_at: AwareDatetime | None = Field(default=None, description="When the registrar is expected to delete.")


class DomainDeleted(DomainEventData):
    """Emitted when a domain was deleted."""

    reason: str | None = known_values(
        ["expired", "transfered", "auction", "historical", "by-request", "delete-domain-api"],
        "Why the domain was deleted (OpenSRS; `transfered` is spelled as the provider spells it).",
    )
    deleted_at: AwareDatetime | None = Field(default=None, description="When the deletion took effect.")
    redemption_grace_period_ends_at: AwareDatetime | None = Field(
        default=None, description="End of the redemption grace period (the domain can still be restored until then)."
    )


class DomainDeletionFailed(DomainEventData):
    """Emitted when a deletion request failed or was canceled (outcome `failure` or `canceled`)."""


class DomainModified(DomainEventData):
    """Emitted when a modification of the domain (contacts, statuses, DNSSEC, ...) completed."""


class DomainModificationFailed(DomainEventData):
    """Emitted when a modification of the domain failed or was canceled (outcome `failure` or `canceled`)."""


class DomainNameserversUpdated(_TaskItemRef):
    """Emitted when the domain's nameserver set changed; `nameservers` is the set at the moment of the event."""

    nameservers: list[str] = Field(default_factory=list, description="Host names, lower case, as set.")


class DomainNameserversUpdateFailed(_TaskItemRef):
    """Emitted when a request to change the nameservers failed."""

    nameservers: list[str] = Field(default_factory=list, description="Host names that were requested, if known.")


class DomainAuthInfoRetrieved(_TaskItemRef):
    """Emitted when a domain's transfer authorisation code (EPP auth info) was retrieved.

    The code itself is a secret and is never part of a canonical event: only who received it.
    """

    auth_info_delivered_to: str | None = pii(
        default=None, description="Where the provider delivered the code (e.g. the registrant e-mail)."
    )
    secret_withheld: Literal[True] = Field(
        default=True, description="Always true: the auth code was removed before publishing."
    )


class DomainAuthInfoFailed(_TaskItemRef):
    """Emitted when retrieving a domain's transfer authorisation code failed."""


class DomainBlocked(DomainEventData):
    """Emitted when a domain's status transitions to blocked (edge-triggered: once per transition)."""

    reason: str | None = Field(default=None, description="Why it was blocked, as the provider says.")
    blocked_by: str | None = known_values(
        ["registrar", "registry", "scanner", "most"],
        "Who blocked it (Most names the acting party; the values are our reading of its documentation).",
    )
    registrar: str | None = Field(default=None, description="The registrar the domain is held at, when known.")


class DomainComplaintReceived(DomainEventData):
    """Emitted when an abuse complaint against a domain was received, before any block (Most: reserved)."""

    complaint_id: str | None = Field(default=None, description="The provider's id of the complaint.")
    category: str | None = known_values(
        ["phishing", "malware", "copyright", "trademark", "csam"], "What the complaint alleges."
    )
    details: str | None = Field(default=None, description="The complaint's text as forwarded by the provider.")
    received_at: AwareDatetime | None = Field(default=None, description="When the provider received it.")
    respond_by: AwareDatetime | None = Field(default=None, description="Deadline to respond before action.")


class DomainTransferStatusChanged(DomainEventData):
    """Emitted when a domain transfer (into or out of the provider) changed state; the outcome says whether the
    transfer completed (`success`), failed, was canceled, or is in progress (`notification`)."""

    direction: Literal["inbound", "outbound"] | None = Field(
        default=None, description="`inbound` to the provider, `outbound` away from it; absent when not said."
    )
    transfer_id: str | None = Field(default=None, description="The provider's transfer id.")
    order_id: str | None = Field(default=None, description="The provider's order id (OpenSRS sends 0 for none).")
    transfer_status: str | None = known_values(
        ["cancelled", "completed", "pending_admin", "pending_owner", "pending_registry"],
        "Transfer state as the provider names it (OpenSRS).",
    )


class VerificationDeadline(BaseModel):
    """A date by which verification must be done, and what happens otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = known_values(["dedelegation", "deletion"], "What happens at the deadline.", default=...)
    date: AwareDatetime = Field(description="The deadline.")


class VerificationRegistrant(BaseModel):
    """A registrant contact whose data is being verified."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contact_id: str | None = Field(default=None, description="The provider's contact id.")
    name: str | None = pii(default=None, description="The registrant's name.")
    email: str | None = pii(default=None, description="The registrant's e-mail address.")


class DomainVerificationStatusChanged(DomainEventData):
    """Emitted when the registrant (or domain) verification state changed or verification is requested."""

    verification_status: str | None = known_values(
        [
            "unverified",
            "pending",
            "verifying",
            "marking_as_verified",
            "verified",
            "suspended",
            "admin_reviewing",
            "bounced",
            "not_applicable",
        ],
        "Registrant verification state (OpenSRS).",
    )
    verification_deadlines: list[VerificationDeadline] = Field(default_factory=list, description="(OpusDNS)")
    verification_claims: list[str] = known_values(
        ["name", "address", "email", "phone"], "Claims that need verification (OpusDNS).", default_factory=list
    )
    registrants: list[VerificationRegistrant] = Field(
        default_factory=list, description="Registrant contacts concerned (OpusDNS; personal data)."
    )


class DomainZoneCheckStatusChanged(DomainEventData):
    """Emitted when the registry's DNS zone check of a domain passed or failed (.de, .fr); an invalid zone can get
    the domain disabled by the registry."""

    zone_check_status: str | None = known_values(["valid", "invalid"], "Result of the registry's zone check.")


class DomainRegistrantChangeStatusChanged(DomainEventData):
    """Emitted when an ICANN change of registrant (trade) changed state (OpenSRS ICANN_TRADE_STATUS_CHANGE;
    its fields are undocumented, so everything it sends is kept in provider_fields)."""

    status: str | None = Field(default=None, description="The trade's new status, if the provider names one.")


class DomainTransit(DomainEventData):
    """Emitted when a domain entered the registry's transit state (TLD-specific, e.g. .de)."""


class DomainWithdrawn(DomainEventData):
    """Emitted when a domain was withdrawn from the registry (TLD-specific, e.g. .at)."""


class DomainOperationNotification(DomainEventData):
    """Emitted when an operation on a domain started or needs attention, without a result yet."""

    operation: str = known_values(
        ["registration", "renewal", "deletion", "modification"],
        "The operation the notification is about (lower-cased provider operation).",
        default=...,
    )
