"""The domain aggregate: one state per (provider, account, domain), folded from every event about the domain.

Each field is a last-writer-wins register over provider time, so an event older than the state it would overwrite
changes nothing (it still reaches the timeline), and any order of delivery yields the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from regpipe.aggregate.fold.stamp import Register, later, stamp_of
from regpipe.contract import CanonicalEvent, EventType, Outcome
from regpipe.contract.events import (
    DomainRegistrantChangeStatusChanged,
    DomainTransferStatusChanged,
    DomainVerificationStatusChanged,
)

__all__ = ["PENDING_VERIFICATION", "DomainKey", "DomainState", "lifecycle_status", "step_domain"]

#: Verification states that make an otherwise live domain `pending_verification`.
PENDING_VERIFICATION = frozenset({"unverified", "pending", "verifying", "marking_as_verified", "admin_reviewing"})
_LIVE = frozenset({"registered", "active", "transferred_in"})

_STATUS_BY_TYPE: dict[EventType, str] = {
    EventType.DOMAIN_CREATED: "registered",
    EventType.DOMAIN_REGISTERED: "registered",
    EventType.DOMAIN_REGISTRATION_FAILED: "registration_failed",
    EventType.DOMAIN_RENEWED: "active",
    EventType.DOMAIN_EXPIRING: "expiring",
    EventType.DOMAIN_EXPIRED: "expired",
    EventType.DOMAIN_DELETING: "deleting",
    EventType.DOMAIN_DELETED: "deleted",
    EventType.DOMAIN_BLOCKED: "blocked",
}
# Parametrised once: subscripting a generic model on every event costs a cache lookup each time.
_TextRegister = Register[str]
_TimeRegister = Register[datetime]
_NamesRegister = Register[tuple[str, ...]]
_VERIFICATION_BY_OUTCOME = {Outcome.SUCCESS: "verified", Outcome.FAILURE: "suspended"}


# A dataclass rather than a model: a key is built for every event and hashed at every lookup, from values the
# event's validation already checked.
@dataclass(frozen=True, slots=True, kw_only=True)
class DomainKey:
    """Which row a domain event updates. Canonical events carry no account yet, so `account` is ''."""

    provider: str
    account: str = ""
    name: str


class DomainState(BaseModel):
    """What is known of one domain at one provider."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    account: str = ""
    name: str
    lifecycle: Register[str] | None = None
    expires_at: Register[datetime] | None = None
    nameservers: Register[tuple[str, ...]] | None = None
    verification_status: Register[str] | None = None
    registrant_change_status: Register[str] | None = None
    transfer_status: Register[str] | None = None
    last_event: Register[str] | None = None  # value: the event type
    first_event_at: datetime | None = None

    @property
    def status(self) -> str | None:
        """The lifecycle status, or `pending_verification` while a live domain awaits registrant verification."""
        lifecycle = self.lifecycle.value if self.lifecycle is not None else None
        verification = self.verification_status.value if self.verification_status is not None else None
        if verification in PENDING_VERIFICATION and (lifecycle is None or lifecycle in _LIVE):
            return "pending_verification"
        return lifecycle


def lifecycle_status(event: CanonicalEvent) -> str | None:
    """The lifecycle status an event puts its domain in, or None when it says nothing about it."""
    if event.type is EventType.DOMAIN_TRANSFER_STATUS_CHANGED and isinstance(event.data, DomainTransferStatusChanged):
        if event.outcome is Outcome.SUCCESS:
            return "transferred_out" if event.data.direction == "outbound" else "transferred_in"
        return "transfer_pending" if event.outcome is Outcome.NOTIFICATION else None
    return _STATUS_BY_TYPE.get(event.type)


def _transfer_status(data: DomainTransferStatusChanged, outcome: Outcome) -> str:
    if data.transfer_status:
        return data.transfer_status
    return {Outcome.SUCCESS: "completed", Outcome.CANCELED: "cancelled", Outcome.FAILURE: "failed"}.get(
        outcome, "pending"
    )


def step_domain(state: DomainState | None, key: DomainKey, event: CanonicalEvent) -> DomainState:
    """Fold one event into a domain's state (pure; idempotent; commutative over events with distinct stamps)."""
    if state is None:
        state = DomainState(provider=key.provider, account=key.account, name=key.name)
    at = stamp_of(event)
    changes: dict[str, object] = {
        "last_event": later(state.last_event, _TextRegister(value=event.type.value, at=at)),
        "first_event_at": event.time if state.first_event_at is None else min(state.first_event_at, event.time),
    }
    status = lifecycle_status(event)
    if status is not None:
        changes["lifecycle"] = later(state.lifecycle, _TextRegister(value=status, at=at))
    expires_at = getattr(event.data, "expires_at", None) if event.type.value.startswith("domain.") else None
    if isinstance(expires_at, datetime):
        changes["expires_at"] = later(state.expires_at, _TimeRegister(value=expires_at, at=at))
    if event.type is EventType.DOMAIN_NAMESERVERS_UPDATED:
        servers = tuple(getattr(event.data, "nameservers", ()))
        changes["nameservers"] = later(state.nameservers, _NamesRegister(value=servers, at=at))
    data = event.data
    if isinstance(data, DomainVerificationStatusChanged):
        value = data.verification_status or _VERIFICATION_BY_OUTCOME.get(event.outcome, "pending")
        changes["verification_status"] = later(state.verification_status, _TextRegister(value=value, at=at))
    if isinstance(data, DomainRegistrantChangeStatusChanged):
        value = data.status or "changed"
        changes["registrant_change_status"] = later(state.registrant_change_status, _TextRegister(value=value, at=at))
    if isinstance(data, DomainTransferStatusChanged):
        value = _transfer_status(data, event.outcome)
        changes["transfer_status"] = later(state.transfer_status, _TextRegister(value=value, at=at))
    return state.model_copy(update=changes)
