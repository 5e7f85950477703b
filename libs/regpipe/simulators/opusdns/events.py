"""Realistic random OpusDNS events for the simulator, tests and demos: every object type x type x subtype of the
provider's documentation, V1 `event_data` (message, error on failures, renewal and verification details) and
legacy pre-V1 events (`epp_event_` ids, created before 2026-05-08). Reproducible from a seeded `random.Random`.

Events are plain dicts with `datetime` values; `api` serialises them (zone-less or RFC 3339).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from regpipe.providers.opusdns.payloads import LEGACY_EVENT_ID_PREFIX, ObjectType, Operation, Subtype

__all__ = [
    "LEGACY_CUTOVER",
    "SEED_OBJECT_TYPES",
    "SEED_OPERATIONS",
    "VANITY_OPERATIONS",
    "EventFactory",
    "typeid",
]

#: Events created before this day carry `epp_event_` ids (and may have the legacy event_data shape).
LEGACY_CUTOVER: Final = datetime(2026, 5, 8, tzinfo=UTC)

#: The object types and operations the seed document lists.
SEED_OBJECT_TYPES: Final = (ObjectType.DOMAIN, ObjectType.CONTACT, ObjectType.HOST, ObjectType.RAW, ObjectType.UNKNOWN)
SEED_OPERATIONS: Final = (
    Operation.REGISTRATION,
    Operation.RENEWAL,
    Operation.MODIFICATION,
    Operation.DELETION,
    Operation.INBOUND_TRANSFER,
    Operation.OUTBOUND_TRANSFER,
    Operation.TRANSIT,
    Operation.WITHDRAW,
    Operation.VERIFICATION,
)
VANITY_OPERATIONS: Final = (
    Operation.VANITY_NS_PROVISION,
    Operation.VANITY_NS_SUSPENSION,
    Operation.VANITY_NS_RESTORATION,
    Operation.VANITY_NS_TERMINATION,
)

_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"  # TypeID's base32 (Crockford, lower case)
_WORDS: Final = (
    "acme", "blue", "harbor", "nordic", "pixel", "summit", "cedar", "atlas", "lumen", "orbit", "maple", "vertex",
    "quartz", "falcon", "meadow", "copper", "aurora", "delta", "ember", "juniper", "kestrel", "nimbus", "bakery",
    "garten", "bergblick", "studio", "werk", "ferien", "haus", "kanzlei",
)  # fmt: skip
_TLDS: Final = ("com", "net", "org", "io", "eu", "de", "at", "ch", "nl", "fr", "dev", "app", "shop")
_IDN_NAMES: Final = ("bücher-laden.de", "müller-bau.at", "straße-shop.de", "café-lumen.fr")
_REGISTRY_CODES: Final = (
    ("2302", "Object exists"),
    ("2201", "Authorization error"),
    ("2202", "Invalid authorization information"),
    ("2304", "Object status prohibits operation"),
    ("2305", "Object association prohibits operation"),
    ("2306", "Parameter value policy error"),
    ("2400", "Command failed"),
)
_FIRST: Final = ("Jane", "John", "Anna", "Lukas", "Marie", "Jonas", "Sofia", "Paul", "Emma", "Felix")
_LAST: Final = ("Doe", "Müller", "Schmidt", "Novak", "Rossi", "Dupont", "Jansen", "Berg", "Wagner", "Huber")
_OPERATION_NOUN: Final[dict[str, str]] = {
    Operation.REGISTRATION: "registration",
    Operation.RENEWAL: "renewal",
    Operation.MODIFICATION: "update",
    Operation.DELETION: "deletion",
    Operation.INBOUND_TRANSFER: "inbound transfer",
    Operation.OUTBOUND_TRANSFER: "outbound transfer",
    Operation.TRANSIT: "transit",
    Operation.WITHDRAW: "withdrawal",
    Operation.VERIFICATION: "verification",
}
_ERROR_CODE: Final[dict[str, str]] = {
    Operation.REGISTRATION: "ERROR_DOMAIN_REGISTRATION",
    Operation.RENEWAL: "ERROR_DOMAIN_RENEWAL",
    Operation.MODIFICATION: "ERROR_DOMAIN_UPDATE",
    Operation.DELETION: "ERROR_DOMAIN_DELETION",
    Operation.INBOUND_TRANSFER: "ERROR_DOMAIN_TRANSFER",
    Operation.OUTBOUND_TRANSFER: "ERROR_DOMAIN_TRANSFER",
    Operation.TRANSIT: "ERROR_DOMAIN_TRANSIT",
    Operation.WITHDRAW: "ERROR_DOMAIN_WITHDRAW",
    Operation.VERIFICATION: "ERROR_DOMAIN_VERIFICATION",
}
_VANITY_STATE: Final[dict[str, str]] = {
    Operation.VANITY_NS_PROVISION: "provisioned",
    Operation.VANITY_NS_SUSPENSION: "suspended",
    Operation.VANITY_NS_RESTORATION: "restored",
    Operation.VANITY_NS_TERMINATION: "terminated",
}
_OPERATION_TLD: Final[dict[str, str]] = {Operation.TRANSIT: "de", Operation.WITHDRAW: "at"}
_VANITY_OUTCOME: Final[dict[str, str]] = {Subtype.FAILURE: "could not be", Subtype.CANCELED: "was not"}


def typeid(prefix: str, rng: random.Random, when: datetime) -> str:
    """A TypeID: `prefix_` + a UUIDv7 (millisecond time of `when`, random bits from `rng`) in base32."""
    millis = int(when.timestamp() * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    return prefix + "_" + "".join(_ALPHABET[(value >> (5 * (25 - i))) & 31] for i in range(26))


class EventFactory:
    """Makes events. Creation times advance a few seconds per event from `clock`; with `realtime` they are the
    current time instead (strictly increasing), as for events a live simulator receives."""

    def __init__(self, rng: random.Random, clock: datetime | None = None, *, realtime: bool = False) -> None:
        self.rng = rng
        self.clock = clock or datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
        self.realtime = realtime

    # -- whole sets ----------------------------------------------------------------------------------------------

    def every_combination(self) -> list[dict[str, Any]]:
        """One event per seed object type x type x subtype, plus BALANCE and every VANITY_NS_* x subtype."""
        events = [
            self.event(object_type, operation, subtype)
            for object_type in SEED_OBJECT_TYPES
            for operation in SEED_OPERATIONS
            for subtype in Subtype
        ]
        events.append(self.event(ObjectType.ACCOUNT, Operation.BALANCE, Subtype.NOTIFICATION))
        events.extend(
            self.event(ObjectType.VANITY_NS_SET, operation, subtype)
            for operation in VANITY_OPERATIONS
            for subtype in Subtype
        )
        return events

    def random_events(self, n: int, *, legacy_share: float = 0.05) -> list[dict[str, Any]]:
        """`n` events, mostly about domains (as in a real account), a few legacy ones."""
        return [self.random_event(legacy=self.rng.random() < legacy_share) for _ in range(n)]

    def random_event(self, *, legacy: bool = False) -> dict[str, Any]:
        """One event of a random kind."""
        draw = self.rng.random()
        if draw < 0.02:
            return self.event(ObjectType.ACCOUNT, Operation.BALANCE, Subtype.NOTIFICATION)
        if draw < 0.05:
            operation = self.rng.choice(VANITY_OPERATIONS)
            return self.event(ObjectType.VANITY_NS_SET, operation, self.rng.choice(list(Subtype)))
        weights = (80, 8, 6, 4, 2)
        object_type = self.rng.choices(SEED_OBJECT_TYPES, weights=weights)[0]
        return self.event(object_type, self.rng.choice(SEED_OPERATIONS), self.rng.choice(list(Subtype)), legacy=legacy)

    # -- one event -----------------------------------------------------------------------------------------------

    def event(
        self,
        object_type: str,
        operation: str | None,
        subtype: str | None,
        *,
        legacy: bool = False,
        created_on: datetime | None = None,
    ) -> dict[str, Any]:
        """One event of the given kind; `legacy` makes a pre-V1 event (old id prefix, old event_data shape)."""
        created = created_on or self._tick(legacy)
        domain = self._domain(operation)
        object_id, subject = self._object(object_type, domain, created)
        if legacy:
            event_id = LEGACY_EVENT_ID_PREFIX + typeid("x", self.rng, created)[2:]
            event_data: dict[str, Any] = self._legacy_data(object_type, operation, subtype, subject, domain)
        else:
            event_id = typeid("event", self.rng, created)
            event_data = self._v1_data(object_type, operation, subtype, subject, created)
        return {
            "event_id": event_id,
            "object_id": object_id,
            "object_type": str(object_type),
            "type": None if operation is None else str(operation),
            "subtype": None if subtype is None else str(subtype),
            "event_data": event_data,
            "created_on": created,
            "acknowledged_on": None,
        }

    def _tick(self, legacy: bool) -> datetime:
        if legacy:
            return LEGACY_CUTOVER - timedelta(days=self.rng.randint(1, 400), seconds=self.rng.randint(0, 86_399))
        if self.realtime:
            self.clock = max(datetime.now(UTC), self.clock + timedelta(milliseconds=1))
        else:
            self.clock += timedelta(seconds=self.rng.randint(1, 90), microseconds=self.rng.randint(0, 999) * 1000)
        return self.clock

    def _domain(self, operation: str | None) -> str:
        # TRANSIT is a .de procedure and WITHDRAW an .at one: give them names of those registries.
        tld = _OPERATION_TLD.get(operation or "", self.rng.choice(_TLDS))
        if self.rng.random() < 0.04:
            return self.rng.choice(_IDN_NAMES)
        words: list[str] = self.rng.sample(_WORDS, k=self.rng.choice((1, 2)))
        suffix = str(self.rng.randint(2, 99)) if self.rng.random() < 0.2 else ""
        return "-".join(words) + suffix + "." + tld

    def _object(self, object_type: str, domain: str, created: datetime) -> tuple[str | None, str]:
        """The object id, and how messages name the object."""
        rng = self.rng
        if object_type == ObjectType.DOMAIN:
            # The API sends a domain name or the domain's TypeID (both appear in its documentation).
            object_id = domain if rng.random() < 0.7 else typeid("domain", rng, created)
            return object_id, domain
        if object_type == ObjectType.CONTACT:
            contact = typeid("contact", rng, created)
            return contact, contact
        if object_type == ObjectType.HOST:
            host = f"ns{rng.randint(1, 4)}.{domain}"
            return (host if rng.random() < 0.5 else typeid("host", rng, created)), host
        if object_type == ObjectType.ACCOUNT:
            return typeid("organization", rng, created), "account"
        if object_type == ObjectType.VANITY_NS_SET:
            return typeid("vanity_ns_set", rng, created), f"ns.{domain}"
        if object_type == ObjectType.RAW:
            return (None if rng.random() < 0.5 else f"{rng.randint(10_000, 99_999_999)}"), domain
        return None, domain

    def _v1_data(
        self,
        object_type: str,
        operation: str | None,
        subtype: str | None,
        subject: str,
        created: datetime,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"version": "1.0", "message": self._message(object_type, operation, subtype, subject)}
        if subtype == Subtype.FAILURE:
            code, text = self.rng.choice(_REGISTRY_CODES)
            # Registry error codes are passed through when the registry gave one; else OpusDNS's own code.
            registry_code = self.rng.random() < 0.3
            data["error"] = {
                "code": code if registry_code else _ERROR_CODE.get(operation or "", "ERROR_OPERATION_FAILED"),
                "detail": f"{text}: {(operation or 'operation').lower().replace('_', ' ')} of {subject} failed",
            }
        if object_type == ObjectType.DOMAIN and operation == Operation.RENEWAL and subtype == Subtype.SUCCESS:
            expires = created.replace(microsecond=0) + timedelta(days=365 * self.rng.randint(1, 3))
            data["details"] = {"detail_type": "domain_renewal", "expires_on": expires}
        if object_type == ObjectType.DOMAIN and operation == Operation.VERIFICATION and subtype != Subtype.SUCCESS:
            data["details"] = self._verification_details(created)
        return data

    def _verification_details(self, created: datetime) -> dict[str, Any]:
        rng = self.rng
        cest = timezone(timedelta(hours=2))
        first = (created + timedelta(days=15)).astimezone(cest).replace(microsecond=0)
        registrants = []
        for _ in range(rng.choice((1, 1, 2))):
            first_name, last_name = rng.choice(_FIRST), rng.choice(_LAST)
            registrants.append(
                {
                    "contact_id": typeid("contact", rng, created),
                    "name": f"{first_name} {last_name}",
                    "email": f"{first_name}.{last_name}@example.com".lower().replace("ü", "ue"),
                }
            )
        return {
            "detail_type": "domain_verification",
            "domain_id": typeid("domain", rng, created),
            "verification_deadlines": [
                {"type": "dedelegation", "date": first},
                {"type": "deletion", "date": first + timedelta(days=90)},
            ],
            "verification_claims": sorted(rng.sample(["name", "address", "email", "phone"], k=rng.randint(1, 3))),
            "registrants": registrants,
        }

    def _message(self, object_type: str, operation: str | None, subtype: str | None, subject: str) -> str:
        noun = _OPERATION_NOUN.get(operation or "")
        if object_type == ObjectType.ACCOUNT:
            threshold = self.rng.choice((500, 200, 100, 50))
            balance = round(self.rng.uniform(0, threshold), 2)
            return f"Account balance {balance:.2f} EUR fell below the threshold of {threshold:.2f} EUR"
        if object_type == ObjectType.VANITY_NS_SET:
            state = _VANITY_STATE.get(operation or "", "changed")
            if subtype == Subtype.NOTIFICATION:
                return f"Vanity nameserver set {subject}: change to {state} started"
            outcome = _VANITY_OUTCOME.get(subtype or "", "was")
            return f"Vanity nameserver set {subject} {outcome} {state}"
        if object_type == ObjectType.DOMAIN and operation == Operation.VERIFICATION and subtype == "NOTIFICATION":
            return "Domain verification notification received"
        if object_type in (ObjectType.RAW, ObjectType.UNKNOWN):
            prefix = "Registry message" if object_type == ObjectType.RAW else "Unclassified registry notification"
            return f"{prefix}: {noun or 'notice'} for {subject} ({(subtype or 'info').lower()})"
        thing = object_type.title()
        noun = noun or "operation"
        if subtype == Subtype.SUCCESS:
            return f"{thing} {subject} {noun} completed successfully"
        if subtype == Subtype.FAILURE:
            return f"{thing} {noun} failed for {subject}"
        if subtype == Subtype.CANCELED:
            return f"{thing} {noun} for {subject} was canceled"
        return f"{thing} {noun} for {subject} started and is pending at the registry"

    def _legacy_data(
        self, object_type: str, operation: str | None, subtype: str | None, subject: str, domain: str
    ) -> dict[str, Any]:
        """The pre-V1 shape is undocumented; these mimic the EPP poll messages the prefix suggests."""
        rng = self.rng
        ok = subtype in (Subtype.SUCCESS, Subtype.NOTIFICATION, None)
        code, text = ("1000", "Command completed successfully") if ok else rng.choice(_REGISTRY_CODES)
        if rng.random() < 0.5:
            return {
                "name": subject if object_type != ObjectType.DOMAIN else domain,
                "operation": (operation or "unknown").lower(),
                "result": {"code": int(code), "msg": text},
                "registry": rng.choice(("denic", "eurid", "nic.at", "verisign", "afnic")),
            }
        return {
            "msg": f"{(operation or 'event').title()} {'succeeded' if ok else 'failed'} for {subject}",
            "msgQ": {"id": str(rng.randint(1000, 99999)), "count": rng.randint(0, 40)},
            "resData": {"domain": domain, "status": "ok" if ok else "failed", "code": code},
        }
