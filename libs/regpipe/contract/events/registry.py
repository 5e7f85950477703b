"""Data models of events about registry objects other than domains: contacts, hosts (glue records), raw registry
messages and vanity nameserver sets (OpusDNS)."""

from __future__ import annotations

from pydantic import Field

from regpipe.contract.events.base import DomainName, EventData, known_values

__all__ = ["ContactEvent", "HostEvent", "RegistryMessage", "VanityNsStatusChanged"]

_OPERATIONS = [
    "registration",
    "renewal",
    "modification",
    "deletion",
    "inbound_transfer",
    "outbound_transfer",
    "transit",
    "withdraw",
    "verification",
]


class ContactEvent(EventData):
    """Emitted when an operation on a contact record started, succeeded, failed or was canceled (the outcome
    says which)."""

    contact_id: str | None = Field(default=None, description="The provider's contact id.")
    operation: str | None = known_values(_OPERATIONS, "The operation (the provider's type, lower case).")


class HostEvent(EventData):
    """Emitted when an operation on a subordinate host (glue record) started, succeeded, failed or was canceled."""

    host_id: str | None = Field(default=None, description="The provider's host id.")
    host_name: DomainName | None = Field(default=None, description="The host name, when the provider sends it.")
    operation: str | None = known_values(_OPERATIONS, "The operation (the provider's type, lower case).")


class RegistryMessage(EventData):
    """Emitted for a registry message the provider could not attach to a known object type (OpusDNS RAW and
    UNKNOWN objects); everything it sent is kept."""

    object_type: str | None = Field(default=None, description="The provider's object type (e.g. RAW, UNKNOWN).")
    object_id: str | None = Field(default=None, description="The provider's object id, if any.")
    operation: str | None = known_values(_OPERATIONS, "The operation (the provider's type, lower case).")


class VanityNsStatusChanged(EventData):
    """Emitted when a vanity nameserver set was provisioned, suspended, restored or terminated."""

    vanity_ns_set_id: str | None = Field(default=None, description="The provider's id of the vanity NS set.")
    status: str = known_values(
        ["provisioned", "suspended", "restored", "terminated"],
        "The set's new state (from the OpusDNS type VANITY_NS_PROVISION/SUSPENSION/RESTORATION/TERMINATION).",
        default=...,
    )
