"""The Cold Mail Reseller webhook simulator: every documented event with the seed's field names, the credentials
real payloads carry, payloads our models and mapper read, deterministic per seed."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from regpipe.contract.raw import RawHeaders
from regpipe.contract.taxonomy import Source, Transport
from regpipe.providers.coldmail import payloads
from regpipe.providers.coldmail.mapping import map_record
from regpipe.providers.mapper import RawInput
from regpipe.simulators.coldmail import RETRY_SCHEDULE, VARIANTS, generate

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
EVENTS = generate(random.Random(11), len(VARIANTS) * 6, now=NOW, id_reuse=0.2)
_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{28}")

# The seed's example payloads, field for field.
SEED_FIELDS = {
    "domain.order.success": {
        "userId", "userEmail", "orderId", "domainId", "domainName", "creationTime", "expiryDate", "price",
    },
    "domain.order.failed": {"userId", "userEmail", "message", "domainName", "orderId", "price"},
    "domain.renewal.success": {"userId", "userEmail", "domainName", "domainId", "years", "expireOn"},
    "domain.renewal.failed": {"userId", "userEmail", "domainName", "domainId", "years", "error"},
}  # fmt: skip
# PROVIDERS.md's known payloads (each event may carry more).
KNOWN_FIELDS = {
    "mailbox.order.success": {
        "domainId", "domainName", "userId", "userEmail", "subscriptionId", "orderId", "workspaceType",
        "creationTime", "expiryDate", "price", "quantity",
    },
    "subscription.renewing": {
        "userId", "userEmail", "subscriptionId", "domainId", "domain", "workspaceType", "quantity", "periodStart",
        "periodEnd", "autoRenew", "description", "subscriptionStatus",
    },
    "prewarmup.order.success": {"userId", "userEmail", "orderId", "serviceProvider", "mailboxDetails"},
}  # fmt: skip
PREWARMED_FIELDS = {
    "mailboxId", "email", "firstName", "lastName", "profilePicture", "password", "appPassword",
    "authenticatorSecret", "isAdmin", "warmingUpFrom", "expiryDate",
}  # fmt: skip


def _documents() -> list[dict[str, Any]]:
    return [orjson.loads(event.body) for event in EVENTS]


def test_covers_every_event_type() -> None:
    assert {d["event"] for d in _documents()} == {t.value for t in payloads.ColdMailEventType}


def test_envelope_and_field_names_follow_the_documentation() -> None:
    for document in _documents():
        assert set(document) == {"event", "eventId", "data"}
        assert _ID.fullmatch(document["eventId"])
        fields = set(document["data"])
        if document["event"] in SEED_FIELDS:
            assert fields == SEED_FIELDS[document["event"]]
        if document["event"] in KNOWN_FIELDS:
            assert KNOWN_FIELDS[document["event"]] <= fields
        if document["event"].startswith("subscription."):
            assert document["data"]["workspaceType"] in ("GOOGLE", "MICROSOFT")


def test_mailboxes_carry_credentials_like_the_real_payloads() -> None:
    for document in _documents():
        if document["event"] in ("mailbox.created", "mailbox.updated"):
            assert {"password", "appPassword", "authenticatorSecret"} <= set(document["data"])
        if document["event"].startswith("prewarmup.order."):
            mailboxes = [m for d in document["data"]["mailboxDetails"] for m in d["preWarmedUpMailboxes"]]
            assert mailboxes
            assert all(set(m) == PREWARMED_FIELDS for m in mailboxes)


def test_every_event_parses_with_the_payload_models_and_maps() -> None:
    for event in EVENTS:
        envelope = payloads.ColdMailEnvelope.model_validate_json(event.body)
        assert (envelope.event_id, envelope.event) == (event.event_id, event.event_type)
        headers = RawHeaders(source=Source.COLDMAIL, transport=Transport.WEBHOOK, provider_event_id=event.event_id)
        assert map_record(RawInput(body=event.body, headers=headers))


def test_ids_are_sometimes_reused_across_types_as_the_seed_shows() -> None:
    types_by_id: dict[str, set[str]] = {}
    for event in EVENTS:
        types_by_id.setdefault(event.event_id, set()).add(event.event_type)
    assert any(len(types) > 1 for types in types_by_id.values())


def test_same_seed_same_events() -> None:
    again = generate(random.Random(11), len(EVENTS), now=NOW, id_reuse=0.2)
    assert [e.body for e in again] == [e.body for e in EVENTS]
    assert RETRY_SCHEDULE.delays_s[0] == 5.0
