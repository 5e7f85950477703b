"""Realistic random OpenSRS event objects, shaped exactly like the JSON of OpenSRS's notification e-mails.

Shared by the XML API simulator (which serves them by poll) and the e-mail simulator (which mails them), so the
same event can arrive by both routes, as it does from OpenSRS. Deterministic for a seeded `random.Random`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from regpipe.providers.opensrs.payloads import KNOWN_EVENTS

__all__ = [
    "CLAIM_STATUSES",
    "DELETION_REASONS",
    "MESSAGE_TYPES",
    "ORDER_REG_TYPES",
    "ORDER_STATUSES",
    "SAMPLE_START",
    "TRADE_STATUSES",
    "TRANSFER_STATUSES",
    "VERIFICATION_STATUSES",
    "ZONE_CHECK_STATUSES",
    "generate_event",
    "generate_events",
]

# Value sets from the seed's event table (and, for trades and messages, OpenSRS's API guide and public clients).
VERIFICATION_STATUSES = (
    "unverified",
    "pending",
    "verifying",
    "marking_as_verified",
    "verified",
    "suspended",
    "admin_reviewing",
    "bounced",
    "not_applicable",
)
ZONE_CHECK_STATUSES = ("valid", "invalid")
DELETION_REASONS = ("expired", "transfered", "auction", "historical", "by-request", "delete-domain-api")
CLAIM_STATUSES = ("initiated", "declined", "cancelled", "accepted")
ORDER_STATUSES = ("cancelled", "completed", "declined", "pending", "pending_fax", "processed", "waiting")
ORDER_REG_TYPES = ("landrush", "new", "premium", "renewal", "sunrise", "transfer", "whois_privacy")
TRANSFER_STATUSES = ("cancelled", "completed", "pending_admin", "pending_owner", "pending_registry")
TRADE_STATUSES = (
    "initiated",
    "pending_current_registrant",
    "current_registrant_approved",
    "current_registrant_approved_by_da",
    "pending_new_registrant",
    "new_registrant_approved",
    "new_registrant_approved_by_da",
    "cancelled_by_new_change",
    "cancelled_by_current_registrant",
    "cancelled_by_new_registrant",
    "cancelled_by_reseller",
    "timeout",
    "completed",
)
MESSAGE_TYPES = (
    "reseller.renewal.reminder",
    "reseller.renewal.confirmation",
    "registrant.renewal.reminder",
    "reseller.expiry.notice",
    "registrant.expiration.reminder",
    "reseller.registration.confirmation",
    "reseller.transfer.notice",
    "registrant.verification",
    "reseller.trade.confirmation",
)
_MESSAGE_STATUSES = ("sent", "delivered", "bounced", "failed")

_WORDS = (
    "alpine", "harbor", "maple", "copper", "lumen", "atlas", "ember", "nimbus", "quarry", "saffron",
    "tundra", "velvet", "willow", "zephyr", "orchid", "pixel", "cobalt", "meadow", "beacon", "falcon",
)  # fmt: skip
_IDN_LABELS = ("bücher", "café-münchen", "straße", "smörgås", "élan")
_TLDS = ("com", "net", "org", "ca", "io", "info", "biz", "co", "de", "fr", "eu")
_ZONE_CHECK_TLDS = ("de", "fr")  # the registries that run zone checks
_NAMESERVER_SETS = (
    ("ns1.systemdns.com", "ns2.systemdns.com", "ns3.systemdns.com"),
    ("a.ns.cloudhost.net", "b.ns.cloudhost.net"),
    ("dns1.registrar-servers.com", "dns2.registrar-servers.com"),
    ("ns1.example-hosting.org", "ns2.example-hosting.org", "ns3.example-hosting.org", "ns4.example-hosting.org"),
)
#: When generated histories begin unless told otherwise (fixed, so a seed always gives the same events).
SAMPLE_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _domain(rng: random.Random, tlds: tuple[str, ...] = _TLDS) -> str:
    if rng.random() < 0.08:
        label = rng.choice(_IDN_LABELS) + str(rng.randint(1, 99))
    else:
        label = "-".join(rng.sample(_WORDS, rng.randint(1, 2))) + str(rng.randint(0, 9999))
    return f"{label}.{rng.choice(tlds)}"


def _domain_fields(rng: random.Random, tlds: tuple[str, ...] = _TLDS) -> dict[str, Any]:
    return {"domain_name": _domain(rng, tlds), "domain_id": str(rng.randint(100_000, 99_999_999))}


def _expiry(rng: random.Random, when: datetime, years: int) -> str:
    return _iso(when.replace(hour=4, minute=0, second=0) + timedelta(days=365 * years + rng.randint(0, 30)))


def _created(rng: random.Random, when: datetime) -> dict[str, Any]:
    return {**_domain_fields(rng), "expiration_date": _expiry(rng, when, rng.randint(1, 5))}


def _registered(rng: random.Random, when: datetime) -> dict[str, Any]:
    period = rng.randint(1, 10)
    return {**_domain_fields(rng), "expiration_date": _expiry(rng, when, period), "period": period}


def _renewed(rng: random.Random, when: datetime) -> dict[str, Any]:
    period = rng.randint(1, 5)
    return {**_domain_fields(rng), "expiration_date": _expiry(rng, when, period + 1), "period": period}


def _expired(rng: random.Random, when: datetime) -> dict[str, Any]:
    return {**_domain_fields(rng), "expiration_date": _iso(when.replace(hour=4, minute=0, second=0))}


def _deleted(rng: random.Random, when: datetime) -> dict[str, Any]:
    return {
        **_domain_fields(rng),
        "reason": rng.choice(DELETION_REASONS),
        "deletion_date": _iso(when),
        "redemption_grace_period_end_date": _iso(when + timedelta(days=30)),
    }


def _nameserver_update(rng: random.Random, when: datetime) -> dict[str, Any]:
    return {**_domain_fields(rng), "nameserver_list": list(rng.choice(_NAMESERVER_SETS))}


def _zone_check(rng: random.Random, when: datetime) -> dict[str, Any]:
    return {**_domain_fields(rng, _ZONE_CHECK_TLDS), "zone_check_status": rng.choice(ZONE_CHECK_STATUSES)}


def _verification(rng: random.Random, when: datetime) -> dict[str, Any]:
    return {**_domain_fields(rng), "verification_status": rng.choice(VERIFICATION_STATUSES)}


def _trade(rng: random.Random, when: datetime) -> dict[str, Any]:
    return {**_domain_fields(rng), "trade_status": rng.choice(TRADE_STATUSES)}


def _message(rng: random.Random, when: datetime) -> dict[str, Any]:
    fields = _domain_fields(rng)
    return {
        **fields,
        "message_type": rng.choice(MESSAGE_TYPES),
        "message_status": rng.choice(_MESSAGE_STATUSES),
        "to_address": f"{rng.choice(_WORDS)}@{fields['domain_name'].split('.', 1)[0]}-mail.com",
    }


def _order_status(rng: random.Random, when: datetime) -> dict[str, Any]:
    return {
        "domain_name": _domain(rng),
        "order_id": str(rng.randint(1_000_000, 9_999_999)),
        "order_status": rng.choice(ORDER_STATUSES),
        "order_reg_type": rng.choice(ORDER_REG_TYPES),
    }


def _claim_status(rng: random.Random, when: datetime) -> dict[str, Any]:
    return {
        "domain_name": _domain(rng),
        "order_id": str(rng.randint(1_000_000, 9_999_999)),
        "claim_status": rng.choice(CLAIM_STATUSES),
    }


def _transfer_status(rng: random.Random, when: datetime) -> dict[str, Any]:
    # The seed's e-mail example carries order_id as the number 0 when no order is attached.
    return {
        "domain_name": _domain(rng),
        "transfer_id": str(rng.randint(1_000_000, 9_999_999)),
        "order_id": rng.choice((0, rng.randint(1_000_000, 9_999_999))),
        "transfer_status": rng.choice(TRANSFER_STATUSES),
    }


_OBJECT_DATA: dict[tuple[str, str], Callable[[random.Random, datetime], dict[str, Any]]] = {
    ("DOMAIN", "CREATED"): _created,
    ("DOMAIN", "REGISTERED"): _registered,
    ("DOMAIN", "RENEWED"): _renewed,
    ("DOMAIN", "EXPIRED"): _expired,
    ("DOMAIN", "DELETED"): _deleted,
    ("DOMAIN", "NAMESERVER_UPDATE"): _nameserver_update,
    ("DOMAIN", "ZONE_CHECK_STATUS_CHANGE"): _zone_check,
    ("DOMAIN", "REGISTRANT_VERIFICATION_STATUS_CHANGE"): _verification,
    ("DOMAIN", "ICANN_TRADE_STATUS_CHANGE"): _trade,
    ("DOMAIN", "MESSAGE_STATUS_CHANGE"): _message,
    ("ORDER", "STATUS_CHANGE"): _order_status,
    ("ORDER", "CLAIM_STATUS_CHANGE"): _claim_status,
    ("TRANSFER", "STATUS_CHANGE"): _transfer_status,
}


def generate_event(rng: random.Random, object_name: str, event: str, when: datetime) -> dict[str, Any]:
    """One event object of the given type, keys in the order of OpenSRS's e-mails."""
    object_data = _OBJECT_DATA[(object_name, event)](rng, when)
    return {
        "object_data": object_data,
        "object": object_name,
        "event_id": f"{rng.getrandbits(128):032x}",
        "event": event,
        "event_date": _iso(when),
    }


def generate_events(rng: random.Random, n: int, *, start: datetime = SAMPLE_START) -> list[dict[str, Any]]:
    """`n` event objects of random known types, oldest first, a few seconds to minutes apart from `start`.

    The first events walk through every known type once, so even a small sample covers the whole catalogue.
    """
    events: list[dict[str, Any]] = []
    when = start
    for index in range(n):
        object_name, event = KNOWN_EVENTS[index] if index < len(KNOWN_EVENTS) else rng.choice(KNOWN_EVENTS)
        when += timedelta(seconds=rng.randint(1, 600))
        events.append(generate_event(rng, object_name, event, when))
    return events
