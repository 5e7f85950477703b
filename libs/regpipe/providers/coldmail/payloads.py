"""Payload models of Cold Mail Reseller webhooks: the `{"event", "eventId", "data"}` envelope and the `data` of each
event family (domain orders and renewals, mailbox orders, mailboxes, subscriptions, pre-warmed-up mailbox orders).

Shapes follow the provider's documentation where it gives one, and are our reading of it where it does not
(`mailbox.created`, `mailbox.updated`, the `*.failed` variants). Every model keeps the fields it does not name
(`extras`), including the plaintext credentials some events carry: the mapper withholds those, the models never
name them. Times are ISO 8601 text, as documented: a number is refused, never read by its size.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, JsonValue

from regpipe.providers.kit.json_document import DecodedObject
from regpipe.providers.kit.times import IsoTime

__all__ = [
    "ColdMailEnvelope",
    "ColdMailEventType",
    "DomainOrder",
    "DomainRenewal",
    "Mailbox",
    "MailboxOrder",
    "PrewarmedMailbox",
    "PrewarmupMailboxDetails",
    "PrewarmupOrder",
    "Subscription",
]


class ColdMailEventType(StrEnum):
    """The webhook event types Cold Mail Reseller documents."""

    DOMAIN_ORDER_SUCCESS = "domain.order.success"
    DOMAIN_ORDER_FAILED = "domain.order.failed"
    DOMAIN_RENEWAL_SUCCESS = "domain.renewal.success"
    DOMAIN_RENEWAL_FAILED = "domain.renewal.failed"
    MAILBOX_ORDER_SUCCESS = "mailbox.order.success"
    MAILBOX_ORDER_FAILED = "mailbox.order.failed"
    MAILBOX_CREATED = "mailbox.created"
    MAILBOX_UPDATED = "mailbox.updated"
    SUBSCRIPTION_RENEWING = "subscription.renewing"
    SUBSCRIPTION_RENEWAL_SUCCESS = "subscription.renewal.success"
    SUBSCRIPTION_RENEWAL_FAILED = "subscription.renewal.failed"
    PREWARMUP_ORDER_SUCCESS = "prewarmup.order.success"
    PREWARMUP_ORDER_FAILED = "prewarmup.order.failed"


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class _Payload(BaseModel):
    # extra="allow": unknown fields are kept for provider_fields; ids may come as numbers.
    model_config = ConfigDict(frozen=True, extra="allow", coerce_numbers_to_str=True)

    @property
    def extras(self) -> dict[str, Any]:
        """The fields this model does not name, verbatim (credentials included: withhold before use)."""
        return dict(self.model_extra or {})


class ColdMailEnvelope(_Payload):
    """`{"event": "<type>", "eventId": "<28-char id>", "data": {...}}`; no timestamp."""

    event: str = Field(min_length=1)
    event_id: str | None = Field(default=None, validation_alias=_alias("eventId", "event_id", "id"))
    data: DecodedObject = Field(default_factory=dict)


class _Common(_Payload):
    """Fields most Cold Mail payloads share."""

    user_id: str | None = Field(default=None, validation_alias=_alias("userId", "user_id"))
    user_email: str | None = Field(default=None, validation_alias=_alias("userEmail", "user_email"))
    domain_name: str | None = Field(default=None, validation_alias=_alias("domainName", "domain", "domain_name"))
    domain_id: str | None = Field(default=None, validation_alias=_alias("domainId", "domain_id"))
    message: str | None = None
    error: str | dict[str, JsonValue] | None = None


class DomainOrder(_Common):
    """`domain.order.success` / `domain.order.failed` data (one event per domain of an order)."""

    order_id: str | None = Field(default=None, validation_alias=_alias("orderId", "order_id"))
    creation_time: IsoTime | None = Field(default=None, validation_alias=_alias("creationTime", "creation_time"))
    expiry_date: IsoTime | None = Field(default=None, validation_alias=_alias("expiryDate", "expiry_date"))
    price: Decimal | None = None


class DomainRenewal(_Common):
    """`domain.renewal.success` / `domain.renewal.failed` data."""

    years: int | None = Field(default=None, ge=0)
    expire_on: IsoTime | None = Field(default=None, validation_alias=_alias("expireOn", "expire_on"))


class MailboxOrder(_Common):
    """`mailbox.order.success` / `mailbox.order.failed` data."""

    order_id: str | None = Field(default=None, validation_alias=_alias("orderId", "order_id"))
    subscription_id: str | None = Field(default=None, validation_alias=_alias("subscriptionId", "subscription_id"))
    workspace_type: str | None = Field(default=None, validation_alias=_alias("workspaceType", "workspace_type"))
    creation_time: IsoTime | None = Field(default=None, validation_alias=_alias("creationTime", "creation_time"))
    expiry_date: IsoTime | None = Field(default=None, validation_alias=_alias("expiryDate", "expiry_date"))
    price: Decimal | None = None
    quantity: int | None = Field(default=None, ge=0)


class Mailbox(_Common):
    """`mailbox.created` / `mailbox.updated` data: one mailbox (with its credentials, which are withheld)."""

    mailbox_id: str | None = Field(default=None, validation_alias=_alias("mailboxId", "mailbox_id", "id"))
    email: str | None = None
    first_name: str | None = Field(default=None, validation_alias=_alias("firstName", "first_name"))
    last_name: str | None = Field(default=None, validation_alias=_alias("lastName", "last_name"))
    profile_picture: str | None = Field(default=None, validation_alias=_alias("profilePicture", "profile_picture"))
    subscription_id: str | None = Field(default=None, validation_alias=_alias("subscriptionId", "subscription_id"))
    workspace_type: str | None = Field(default=None, validation_alias=_alias("workspaceType", "workspace_type"))
    is_admin: bool | None = Field(default=None, validation_alias=_alias("isAdmin", "is_admin"))
    creation_time: IsoTime | None = Field(default=None, validation_alias=_alias("creationTime", "creation_time"))
    updated_time: IsoTime | None = Field(default=None, validation_alias=_alias("updatedTime", "updated_time"))


class Subscription(_Common):
    """`subscription.renewing` / `subscription.renewal.success` / `subscription.renewal.failed` data."""

    subscription_id: str | None = Field(default=None, validation_alias=_alias("subscriptionId", "subscription_id"))
    workspace_type: str | None = Field(default=None, validation_alias=_alias("workspaceType", "workspace_type"))
    quantity: int | None = Field(default=None, ge=0)
    period_start: IsoTime | None = Field(default=None, validation_alias=_alias("periodStart", "period_start"))
    period_end: IsoTime | None = Field(default=None, validation_alias=_alias("periodEnd", "period_end"))
    auto_renew: bool | None = Field(default=None, validation_alias=_alias("autoRenew", "auto_renew"))
    description: str | None = None
    subscription_status: str | None = Field(
        default=None, validation_alias=_alias("subscriptionStatus", "subscription_status")
    )


class PrewarmedMailbox(_Payload):
    """One pre-warmed-up mailbox (with its credentials, which are withheld)."""

    mailbox_id: str | None = Field(default=None, validation_alias=_alias("mailboxId", "mailbox_id", "id"))
    email: str | None = None
    first_name: str | None = Field(default=None, validation_alias=_alias("firstName", "first_name"))
    last_name: str | None = Field(default=None, validation_alias=_alias("lastName", "last_name"))
    profile_picture: str | None = Field(default=None, validation_alias=_alias("profilePicture", "profile_picture"))
    is_admin: bool | None = Field(default=None, validation_alias=_alias("isAdmin", "is_admin"))
    warming_up_from: str | None = Field(default=None, validation_alias=_alias("warmingUpFrom", "warming_up_from"))
    expiry_date: IsoTime | None = Field(default=None, validation_alias=_alias("expiryDate", "expiry_date"))


class PrewarmupMailboxDetails(_Payload):
    """The mailboxes of one domain in a pre-warm-up order."""

    domain: str | None = Field(default=None, validation_alias=_alias("domain", "domainName", "domain_name"))
    subscription_id: str | None = Field(default=None, validation_alias=_alias("subscriptionId", "subscription_id"))
    mailboxes: list[PrewarmedMailbox] = Field(
        default_factory=list, validation_alias=_alias("preWarmedUpMailboxes", "mailboxes")
    )


class PrewarmupOrder(_Payload):
    """`prewarmup.order.success` / `prewarmup.order.failed` data."""

    user_id: str | None = Field(default=None, validation_alias=_alias("userId", "user_id"))
    user_email: str | None = Field(default=None, validation_alias=_alias("userEmail", "user_email"))
    order_id: str = Field(min_length=1, validation_alias=_alias("orderId", "order_id"))
    service_provider: str | None = Field(default=None, validation_alias=_alias("serviceProvider", "service_provider"))
    mailbox_details: list[PrewarmupMailboxDetails] = Field(
        default_factory=list, validation_alias=_alias("mailboxDetails", "mailbox_details")
    )
    message: str | None = None
    error: str | dict[str, JsonValue] | None = None
