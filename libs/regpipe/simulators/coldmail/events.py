"""Cold Mail Reseller's webhook events, simulated: every event of its documentation (seed 002 and the
Cold Mail section of PROVIDERS.md) with realistic random content from a seeded `random.Random`.

Field names follow the seed's examples and `regpipe.providers.coldmail.payloads`. Like the real payloads,
`mailbox.created`/`mailbox.updated` and pre-warm-up orders carry plaintext passwords, app passwords and TOTP
secrets, and event ids are sometimes reused across event types (the seed's examples do so). `delivery` sends them.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from regpipe.providers.coldmail.payloads import ColdMailEventType
from regpipe.simulators.kit.webhook_sender import OutgoingWebhook

__all__ = ["VARIANTS", "build_event", "generate"]

VARIANTS: Final[tuple[ColdMailEventType, ...]] = tuple(ColdMailEventType)

# Crockford-like upper-case alphabet of the 28-character ids in the seed (e.g. 6SSHBXWR3N4JEKGRQSG3KW3D76N6).
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_FIRST = ("John", "Maria", "Wei", "Aisha", "Lucas", "Sofia", "Noah", "Emma", "Ivan", "Chloe")
_LAST = ("Doe", "Garcia", "Chen", "Khan", "Martin", "Rossi", "Smith", "Novak", "Dubois", "Silva")
_WORDS = (
    "outreach", "growth", "leads", "mail", "sales", "reach", "inbox", "pipeline", "prospect", "signal",
    "north", "bright", "apex", "nimbus", "vertex", "harbor", "summit", "copper", "lumen", "atlas",
)  # fmt: skip
_TLDS = ("com", "net", "io", "co", "org", "info")
_ORDER_FAILURES = (
    "Domain unavailable",
    "Domain contains restricted phrase(s)",
    "Registrar error",
    "Insufficient wallet balance",
    "Invalid domain format",
)
_RENEWAL_ERRORS = (
    "Registrar renewal failed with an unknown error.",
    "Domain has been deleted at the registrar",
    "Domain has too many rule violations",
)
_SUBSCRIPTION_FAILURES = ("Domain is in grace period", "Domain has expired", "Insufficient wallet balance")
_MAILBOX_FAILURES = ("Workspace provisioning failed", "Insufficient wallet balance", "Domain not verified")
_WORKSPACES = ("GOOGLE", "MICROSOFT")
_WARMUP_SOURCES = ("instantly", "smartlead", "lemwarm", "mailreach")
_SERVICE_PROVIDERS = ("GOOGLE", "MICROSOFT")


def _iso(moment: datetime, *, millis: bool = False) -> str:
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds" if millis else "seconds")
    return text.replace("+00:00", "Z")


def _id(rng: random.Random) -> str:
    return "".join(rng.choice(_ID_ALPHABET) for _ in range(28))


def _secret(rng: random.Random, length: int, alphabet: str = string.ascii_letters + string.digits + "!@#$%") -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _domain(rng: random.Random) -> str:
    return "".join(rng.sample(_WORDS, 2)) + f"{rng.randint(0, 99)}.{rng.choice(_TLDS)}"


def _user(rng: random.Random) -> dict[str, Any]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return {"userId": _id(rng), "userEmail": f"{first}.{last}{rng.randint(1, 99)}@gmail.com".lower()}


def _person(rng: random.Random, domain: str) -> dict[str, Any]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return {
        "email": f"{first}.{last}@{domain}".lower(),
        "firstName": first,
        "lastName": last,
        "profilePicture": f"https://cdn.coldmailreseller.example/avatars/{_id(rng).lower()}.png",
    }


def _credentials(rng: random.Random) -> dict[str, Any]:
    return {
        "password": _secret(rng, 14),
        "appPassword": " ".join(_secret(rng, 4, string.ascii_lowercase) for _ in range(4)),
        "authenticatorSecret": _secret(rng, 32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    }


def _price(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 2)


def _domain_order(rng: random.Random, now: datetime, ok: bool) -> dict[str, Any]:
    data = {**_user(rng), "orderId": _id(rng), "domainName": _domain(rng), "price": _price(rng, 8, 40)}
    if ok:
        data |= {
            "domainId": _id(rng),
            "creationTime": _iso(now),
            "expiryDate": _iso(now + timedelta(days=365)),
        }
    else:
        data["message"] = rng.choice(_ORDER_FAILURES)
    return data


def _domain_renewal(rng: random.Random, now: datetime, ok: bool) -> dict[str, Any]:
    data = {**_user(rng), "domainName": _domain(rng), "domainId": _id(rng), "years": 1}
    if ok:
        data["expireOn"] = _iso(now + timedelta(days=365 + rng.randint(0, 30)), millis=True)
    else:
        data["error"] = rng.choice(_RENEWAL_ERRORS)
    return data


def _mailbox_order(rng: random.Random, now: datetime, ok: bool) -> dict[str, Any]:
    quantity = rng.randint(1, 50)
    data = {
        "domainId": _id(rng),
        "domainName": _domain(rng),
        **_user(rng),
        "orderId": _id(rng),
        "workspaceType": rng.choice(_WORKSPACES),
        "price": round(quantity * _price(rng, 2, 6), 2),
        "quantity": quantity,
    }
    if ok:
        data |= {
            "subscriptionId": _id(rng),
            "creationTime": _iso(now),
            "expiryDate": _iso(now + timedelta(days=30)),
        }
    else:
        data["message"] = rng.choice(_MAILBOX_FAILURES)
    return data


def _mailbox(rng: random.Random, now: datetime, created: bool) -> dict[str, Any]:
    domain = _domain(rng)
    data = {
        "mailboxId": _id(rng),
        **_person(rng, domain),
        **_credentials(rng),
        "isAdmin": rng.random() < 0.1,
        "domainName": domain,
        "domainId": _id(rng),
        "subscriptionId": _id(rng),
        "workspaceType": rng.choice(_WORKSPACES),
        **_user(rng),
        "creationTime": _iso(now - timedelta(days=0 if created else rng.randint(1, 90))),
    }
    if not created:
        data["updatedTime"] = _iso(now)
    return data


def _subscription(rng: random.Random, now: datetime, kind: ColdMailEventType) -> dict[str, Any]:
    start = now if kind is ColdMailEventType.SUBSCRIPTION_RENEWAL_SUCCESS else now + timedelta(days=rng.randint(1, 7))
    workspace = rng.choice(_WORKSPACES)
    quantity = rng.randint(1, 30)
    status = {
        ColdMailEventType.SUBSCRIPTION_RENEWING: "ACTIVE",
        ColdMailEventType.SUBSCRIPTION_RENEWAL_SUCCESS: "ACTIVE",
        ColdMailEventType.SUBSCRIPTION_RENEWAL_FAILED: rng.choice(("PAST_DUE", "EXPIRED")),
    }[kind]
    data = {
        **_user(rng),
        "subscriptionId": _id(rng),
        "domainId": _id(rng),
        "domain": _domain(rng),
        "workspaceType": workspace,
        "quantity": quantity,
        "periodStart": _iso(start),
        "periodEnd": _iso(start + timedelta(days=30)),
        "autoRenew": rng.random() < 0.8,
        "description": f"{quantity} {workspace.title()} Workspace mailboxes",
        "subscriptionStatus": status,
    }
    if kind is ColdMailEventType.SUBSCRIPTION_RENEWAL_FAILED:
        data["message"] = rng.choice(_SUBSCRIPTION_FAILURES)
    return data


def _prewarmup(rng: random.Random, now: datetime, ok: bool) -> dict[str, Any]:
    details = []
    for _ in range(rng.randint(1, 3)):
        domain = _domain(rng)
        mailboxes = [
            {
                "mailboxId": _id(rng),
                **_person(rng, domain),
                **_credentials(rng),
                "isAdmin": index == 0,
                "warmingUpFrom": _iso(now - timedelta(days=rng.randint(14, 60))),
                "expiryDate": _iso(now + timedelta(days=30)),
            }
            for index in range(rng.randint(1, 4))
        ]
        details.append({"domain": domain, "subscriptionId": _id(rng), "preWarmedUpMailboxes": mailboxes})
    data = {**_user(rng), "orderId": _id(rng), "serviceProvider": rng.choice(_SERVICE_PROVIDERS)}
    data["mailboxDetails"] = details
    if not ok:
        data["message"] = "Not enough pre-warmed mailboxes in stock for this order"
    return data


_E = ColdMailEventType
_DATA: Final[dict[ColdMailEventType, Callable[[random.Random, datetime], dict[str, Any]]]] = {
    _E.DOMAIN_ORDER_SUCCESS: lambda rng, now: _domain_order(rng, now, True),
    _E.DOMAIN_ORDER_FAILED: lambda rng, now: _domain_order(rng, now, False),
    _E.DOMAIN_RENEWAL_SUCCESS: lambda rng, now: _domain_renewal(rng, now, True),
    _E.DOMAIN_RENEWAL_FAILED: lambda rng, now: _domain_renewal(rng, now, False),
    _E.MAILBOX_ORDER_SUCCESS: lambda rng, now: _mailbox_order(rng, now, True),
    _E.MAILBOX_ORDER_FAILED: lambda rng, now: _mailbox_order(rng, now, False),
    _E.MAILBOX_CREATED: lambda rng, now: _mailbox(rng, now, True),
    _E.MAILBOX_UPDATED: lambda rng, now: _mailbox(rng, now, False),
    _E.SUBSCRIPTION_RENEWING: lambda rng, now: _subscription(rng, now, _E.SUBSCRIPTION_RENEWING),
    _E.SUBSCRIPTION_RENEWAL_SUCCESS: lambda rng, now: _subscription(rng, now, _E.SUBSCRIPTION_RENEWAL_SUCCESS),
    _E.SUBSCRIPTION_RENEWAL_FAILED: lambda rng, now: _subscription(rng, now, _E.SUBSCRIPTION_RENEWAL_FAILED),
    _E.PREWARMUP_ORDER_SUCCESS: lambda rng, now: _prewarmup(rng, now, True),
    _E.PREWARMUP_ORDER_FAILED: lambda rng, now: _prewarmup(rng, now, False),
}


def build_event(
    rng: random.Random, event_type: ColdMailEventType, *, event_id: str | None = None, now: datetime | None = None
) -> OutgoingWebhook:
    """One webhook of `event_type`; `event_id` reuses an id (as the provider sometimes does across types)."""
    data = _DATA[event_type](rng, now or datetime.now(UTC))
    eid = event_id or _id(rng)
    body = orjson.dumps({"event": event_type.value, "eventId": eid, "data": data})
    return OutgoingWebhook(event_id=eid, event_type=event_type.value, body=body)


def generate(
    rng: random.Random, n: int, *, now: datetime | None = None, id_reuse: float = 0.05
) -> list[OutgoingWebhook]:
    """`n` webhooks cycling through every event type (so `n >= len(VARIANTS)` covers them all); with probability
    `id_reuse` an event takes the id of an earlier one of another type."""
    moment = now or datetime.now(UTC)
    events: list[OutgoingWebhook] = []
    for index in range(n):
        event_type = VARIANTS[index % len(VARIANTS)]
        reused = [e.event_id for e in events if e.event_type != event_type.value]
        event_id = rng.choice(reused) if reused and rng.random() < id_reuse else None
        events.append(build_event(rng, event_type, event_id=event_id, now=moment + timedelta(seconds=index)))
    return events
