"""Data models of domain lifecycle events."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from regpipe.contract.events.base import EventData

__all__ = ["DomainEventData", "DomainExpiring"]


class DomainEventData(EventData):
    """Fields every event about one domain has."""

    domain: str = Field(description="Domain name, lower case, IDNA (punycode) form.")
    domain_id: str | None = Field(default=None, description="The provider's id of the domain, if it sent one.")


class DomainExpiring(DomainEventData):
    """A reminder that a domain approaches its expiry date."""

    checkpoint: Literal[30, 7, 6, 5, 4, 3, 2, 1] | None = Field(
        default=None, description="Days-before-expiry checkpoint that fired (stable; prefer it to days_left)."
    )
    days_left: float | None = Field(default=None, description="Exact real-time delta to expiry, in days.")
    expires_at: AwareDatetime | None = None
