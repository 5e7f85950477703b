"""The realistic OpenSRS events both simulators serve (by poll and by e-mail): every known event with its documented
fields, shaped like the seed e-mails, reproducible from the seed."""

from __future__ import annotations

import random
import re
from datetime import datetime

import orjson

from regpipe.contract.names import normalize_domain
from regpipe.providers.opensrs.payloads import KNOWN_EVENTS
from regpipe.simulators.opensrs.events import generate_events

# The additional fields of each event type, per the seed's table (plus the trade/message assumptions).
EXPECTED_FIELDS = {
    ("DOMAIN", "CREATED"): {"domain_name", "domain_id", "expiration_date"},
    ("DOMAIN", "REGISTERED"): {"domain_name", "domain_id", "expiration_date", "period"},
    ("DOMAIN", "RENEWED"): {"domain_name", "domain_id", "expiration_date", "period"},
    ("DOMAIN", "EXPIRED"): {"domain_name", "domain_id", "expiration_date"},
    ("DOMAIN", "DELETED"): {
        "domain_name",
        "domain_id",
        "reason",
        "deletion_date",
        "redemption_grace_period_end_date",
    },
    ("DOMAIN", "NAMESERVER_UPDATE"): {"domain_name", "domain_id", "nameserver_list"},
    ("DOMAIN", "ZONE_CHECK_STATUS_CHANGE"): {"domain_name", "domain_id", "zone_check_status"},
    ("DOMAIN", "REGISTRANT_VERIFICATION_STATUS_CHANGE"): {"domain_name", "domain_id", "verification_status"},
    ("DOMAIN", "ICANN_TRADE_STATUS_CHANGE"): {"domain_name", "domain_id", "trade_status"},
    ("DOMAIN", "MESSAGE_STATUS_CHANGE"): {"domain_name", "domain_id", "message_type", "message_status", "to_address"},
    ("ORDER", "STATUS_CHANGE"): {"domain_name", "order_id", "order_status", "order_reg_type"},
    ("ORDER", "CLAIM_STATUS_CHANGE"): {"domain_name", "order_id", "claim_status"},
    ("TRANSFER", "STATUS_CHANGE"): {"domain_name", "transfer_id", "order_id", "transfer_status"},
}


def test_sample_events_cover_every_known_event_with_its_documented_fields() -> None:
    assert set(EXPECTED_FIELDS) == set(KNOWN_EVENTS)
    events = generate_events(random.Random(0), 400)
    seen = {(event["object"], event["event"]) for event in events}
    assert seen == set(KNOWN_EVENTS)
    assert {(e["object"], e["event"]) for e in generate_events(random.Random(0), len(KNOWN_EVENTS))} == seen
    for event in events:
        assert set(event["object_data"]) == EXPECTED_FIELDS[(event["object"], event["event"])]


def test_sample_events_are_shaped_like_the_seed_emails() -> None:
    events = generate_events(random.Random(1), 100)
    previous = None
    for event in events:
        assert list(event) == ["object_data", "object", "event_id", "event", "event_date"]
        assert re.fullmatch("[0-9a-f]{32}", event["event_id"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["event_date"])
        when = datetime.fromisoformat(event["event_date"].replace("Z", "+00:00"))
        assert previous is None or when > previous  # oldest first
        previous = when
        normalize_domain(event["object_data"]["domain_name"])  # a name our contract accepts
        orjson.dumps(event)  # JSON as e-mailed
    assert len({event["event_id"] for event in events}) == 100
    zone_checks = [e for e in events if e["event"] == "ZONE_CHECK_STATUS_CHANGE"]
    assert all(e["object_data"]["domain_name"].endswith((".de", ".fr")) for e in zone_checks)


def test_sample_events_are_reproducible_from_the_seed() -> None:
    assert generate_events(random.Random(4), 30) == generate_events(random.Random(4), 30)
    assert generate_events(random.Random(4), 30) != generate_events(random.Random(5), 30)
