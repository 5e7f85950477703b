"""The OpusDNS event generator covers every documented event kind with valid V1 and legacy events, reproducibly."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

from regpipe.providers.opusdns.payloads import EVENT_ID_PATTERN, Event
from regpipe.simulators.opusdns.events import (
    LEGACY_CUTOVER,
    SEED_OBJECT_TYPES,
    SEED_OPERATIONS,
    VANITY_OPERATIONS,
    EventFactory,
    typeid,
)


def test_generator_covers_every_documented_kind_with_valid_v1_and_legacy_events() -> None:
    factory = EventFactory(random.Random(1))
    every = factory.every_combination()
    kinds = {(event["object_type"], event["type"], event["subtype"]) for event in every}
    subtypes = ("NOTIFICATION", "SUCCESS", "FAILURE", "CANCELED")
    assert {(o, t, s) for o in SEED_OBJECT_TYPES for t in SEED_OPERATIONS for s in subtypes} <= kinds
    assert {("VANITY_NS_SET", t, s) for t in VANITY_OPERATIONS for s in subtypes} <= kinds
    assert ("ACCOUNT", "BALANCE", "NOTIFICATION") in kinds
    for event in every:
        parsed = Event.model_validate(event)
        assert not parsed.legacy
        if event["subtype"] == "FAILURE":
            assert event["event_data"]["error"]["code"]
    renewal = next(e for e in every if (e["object_type"], e["type"], e["subtype"]) == ("DOMAIN", "RENEWAL", "SUCCESS"))
    assert renewal["event_data"]["details"]["detail_type"] == "domain_renewal"
    verification = next(e for e in every if (e["object_type"], e["type"]) == ("DOMAIN", "VERIFICATION"))
    assert verification["event_data"]["details"]["registrants"]
    legacy = [factory.event("DOMAIN", "RENEWAL", "SUCCESS", legacy=True) for _ in range(20)]
    for event in legacy:
        parsed = Event.model_validate(event)
        assert parsed.legacy
        assert event["event_id"].startswith("epp_event_")
        assert parsed.created_on < LEGACY_CUTOVER


def test_same_seed_same_events_and_typeids_sort_by_time() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    first = EventFactory(random.Random(5), clock=start).random_events(50)
    again = EventFactory(random.Random(5), clock=start).random_events(50)
    assert first == again
    ids = [typeid("event", random.Random(n), datetime(2026, 6, 1, 0, 0, n, tzinfo=UTC)) for n in range(50)]
    assert ids == sorted(ids)
    assert all(re.fullmatch(EVENT_ID_PATTERN, event_id) for event_id in ids)
