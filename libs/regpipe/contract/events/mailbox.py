"""Data models of mailbox events (Cold Mail Reseller): mailbox orders, mailboxes, subscriptions and pre-warmed-up
mailbox orders. Passwords, app passwords and TOTP secrets the provider sends are never part of these models."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from regpipe.contract.events.base import DomainName, EventData, ProviderFields, User, known_values, pii
from regpipe.contract.events.domain import DomainEventData

__all__ = [
    "MailboxCreated",
    "MailboxEventData",
    "MailboxOrderFailed",
    "MailboxOrderSucceeded",
    "MailboxUpdated",
    "PrewarmedMailbox",
    "PrewarmupOrderEventData",
    "PrewarmupOrderFailed",
    "PrewarmupOrderSucceeded",
    "SubscriptionEventData",
    "SubscriptionRenewalFailed",
    "SubscriptionRenewed",
    "SubscriptionRenewing",
]

_WORKSPACE_TYPES = ["GOOGLE", "MICROSOFT"]


class _MailboxOrderData(DomainEventData):
    user: User | None = Field(default=None, description="The provider's end user who ordered.")
    order_id: str | None = Field(default=None, description="The provider's order id.")
    subscription_id: str | None = Field(default=None, description="The subscription the mailboxes belong to.")
    workspace_type: str | None = known_values(_WORKSPACE_TYPES, "The mail platform.")
    quantity: int | None = Field(default=None, ge=0, description="Number of mailboxes ordered.")
    price: Decimal | None = Field(default=None, description="Price charged (or attempted).")
    currency: str | None = Field(default=None, description="ISO 4217 code of `price`, when the provider says.")


class MailboxOrderSucceeded(_MailboxOrderData):
    """Emitted when mailboxes were ordered for a domain (after its domain order succeeded); one `mailbox.created`
    per mailbox follows."""

    created_at: AwareDatetime | None = Field(default=None, description="When the order was fulfilled.")
    expires_at: AwareDatetime | None = Field(default=None, description="When the mailbox subscription expires.")


class MailboxOrderFailed(_MailboxOrderData):
    """Emitted when a mailbox order for a domain failed; `message` says why."""


class MailboxEventData(DomainEventData):
    """Fields of an event about one mailbox. Its credentials are withheld, always."""

    mailbox_id: str | None = Field(default=None, description="The provider's mailbox id.")
    email: str | None = pii(default=None, description="The mailbox address.")
    first_name: str | None = pii(default=None, description="First name of the mailbox's person.")
    last_name: str | None = pii(default=None, description="Last name of the mailbox's person.")
    profile_picture: str | None = pii(default=None, description="URL of the mailbox's profile picture.")
    user: User | None = Field(default=None, description="The provider's end user who owns the mailbox.")
    subscription_id: str | None = Field(default=None, description="The subscription the mailbox belongs to.")
    workspace_type: str | None = known_values(_WORKSPACE_TYPES, "The mail platform.")
    is_admin: bool | None = Field(default=None, description="Whether the mailbox is the workspace admin.")
    created_at: AwareDatetime | None = Field(default=None, description="When the mailbox was created.")
    updated_at: AwareDatetime | None = Field(default=None, description="When the mailbox was last edited.")
    credentials_withheld: bool = Field(
        default=False, description="True when the provider sent credentials (passwords, TOTP secrets) we removed."
    )


class MailboxCreated(MailboxEventData):
    """Emitted once per mailbox created by a mailbox order."""


class MailboxUpdated(MailboxEventData):
    """Emitted when a mailbox's details were edited."""


class SubscriptionEventData(DomainEventData):
    """Fields of an event about a mailbox subscription (the mailboxes provisioned on one domain)."""

    subscription_id: str | None = Field(default=None, description="The provider's subscription id.")
    user: User | None = Field(default=None, description="The provider's end user who owns the subscription.")
    workspace_type: str | None = known_values(_WORKSPACE_TYPES, "The mail platform.")
    quantity: int | None = Field(default=None, ge=0, description="Number of mailboxes.")
    period_start: AwareDatetime | None = Field(default=None, description="Start of the (new) billing period.")
    period_end: AwareDatetime | None = Field(default=None, description="End of the (new) billing period.")
    auto_renew: bool | None = Field(default=None, description="Whether the subscription renews automatically.")
    description: str | None = Field(default=None, description="The provider's description of the subscription.")
    subscription_status: str | None = Field(default=None, description="The subscription's state, as named.")


class SubscriptionRenewing(SubscriptionEventData):
    """Emitted when a subscription renewal is about to be attempted."""


class SubscriptionRenewed(SubscriptionEventData):
    """Emitted when a subscription was renewed for a new period."""


class SubscriptionRenewalFailed(SubscriptionEventData):
    """Emitted when a subscription renewal failed (e.g. the domain is in its grace period or expired)."""


class PrewarmedMailbox(BaseModel):
    """One pre-warmed-up mailbox of an order. Its credentials are withheld, always."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: DomainName | None = Field(default=None, description="The mailbox's domain (IDNA, lower case).")
    subscription_id: str | None = Field(default=None, description="The subscription the mailbox belongs to.")
    mailbox_id: str | None = Field(default=None, description="The provider's mailbox id.")
    email: str | None = pii(default=None, description="The mailbox address.")
    first_name: str | None = pii(default=None, description="First name of the mailbox's person.")
    last_name: str | None = pii(default=None, description="Last name of the mailbox's person.")
    profile_picture: str | None = pii(default=None, description="URL of the mailbox's profile picture.")
    is_admin: bool | None = Field(default=None, description="Whether the mailbox is the workspace admin.")
    warming_up_from: str | None = Field(default=None, description="Since when it warms up, as the provider says.")
    expires_at: AwareDatetime | None = Field(default=None, description="When the mailbox expires.")
    credentials_withheld: bool = Field(
        default=False, description="True when the provider sent credentials (passwords, TOTP secrets) we removed."
    )
    provider_fields: ProviderFields = Field(
        default_factory=dict, description="Fields of the mailbox not modelled above, kept verbatim."
    )


class PrewarmupOrderEventData(EventData):
    """Fields of an event about an order of pre-warmed-up mailboxes; partitioned by the order id."""

    order_id: str = Field(min_length=1, description="The provider's order id.")
    user: User | None = Field(default=None, description="The provider's end user who ordered.")
    service_provider: str | None = known_values(_WORKSPACE_TYPES, "The mail platform of the mailboxes.")
    mailboxes: list[PrewarmedMailbox] = Field(default_factory=list, description="The mailboxes, flattened.")


class PrewarmupOrderSucceeded(PrewarmupOrderEventData):
    """Emitted when an order of pre-warmed-up mailboxes was delivered."""


class PrewarmupOrderFailed(PrewarmupOrderEventData):
    """Emitted when an order of pre-warmed-up mailboxes failed (it may also succeed later: both can arrive)."""
