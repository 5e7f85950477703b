"""Data models of account-level events: low balance warnings and provider messages about the account."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from regpipe.contract.events.base import DomainName, EventData, known_values, pii

__all__ = ["AccountBalanceLow", "AccountMessage"]


class AccountBalanceLow(EventData):
    """Emitted when the account balance crossed a warning threshold downwards (Most: one per step crossed)."""

    account: str | None = Field(default=None, description="The provider account, when it names one.")
    threshold: Decimal | None = Field(
        default=None, description="The threshold crossed (Most: 1000, 500, 200, 100, 50 or 10)."
    )
    balance: Decimal | None = Field(default=None, description="The balance when the event fired.")
    currency: str | None = Field(default=None, description="ISO 4217 code of the amounts (Most: USD).")
    balance_source: str | None = known_values(
        ["live", "approx"], "Whether the balance was read live from the registrar or approximated (Most)."
    )


class AccountMessage(EventData):
    """Emitted for a provider message about the account or one of its domains that is not a state change of
    a domain (OpenSRS MESSAGE_STATUS_CHANGE, e.g. a renewal reminder sent to the reseller's customer; OpusDNS
    ACCOUNT events other than BALANCE)."""

    message_type: str | None = Field(
        default=None, description="The provider's message type (e.g. OpenSRS `reseller.renewal.reminder`)."
    )
    status: str | None = Field(default=None, description="The message's new status, if the provider names one.")
    domain: DomainName | None = Field(default=None, description="The domain the message is about, if any.")
    operation: str | None = Field(default=None, description="The provider operation, lower case (OpusDNS type).")
    recipient: str | None = pii(
        default=None, description="Who the message was sent to, an e-mail address (OpenSRS `to_address`)."
    )
