"""Canonical event ids are RFC 4122 UUIDv5 over the documented name, as `uuid.uuid5` computes them: the ids
already published must never change, however the computation is made faster."""

from __future__ import annotations

import random
import uuid

from regpipe.contract.ids import NAMESPACE, canonical_event_id
from regpipe.contract.taxonomy import EventType, Source


def test_ids_are_uuid5_of_the_joined_name() -> None:
    rng = random.Random(11)
    alphabet = "abcXYZ019-_:./ é€😀\x1f"
    for _ in range(3000):
        source = rng.choice(list(Source))
        canonical_type = rng.choice(list(EventType))
        provider_id = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        provider_type = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 20)))
        index = rng.choice([None, 0, 1, 7, 12345])
        parts = [source.value, provider_id, provider_type, canonical_type.value]
        if index is not None:
            parts.append(str(index))
        expected = uuid.uuid5(NAMESPACE, "\x1f".join(parts))
        got = canonical_event_id(
            source=source,
            provider_event_id=provider_id,
            provider_event_type=provider_type,
            canonical_type=canonical_type,
            item_index=index,
        )
        assert got == expected
        assert str(got) == str(expected)
        assert (got.version, got.variant) == (5, uuid.RFC_4122)


def test_a_published_id_stays_what_it_was() -> None:
    # Computed with `uuid.uuid5` before the faster computation: a regression here would re-identify every event.
    got = canonical_event_id(
        source=Source.MOST,
        provider_event_id="evt_1",
        provider_event_type="task.completed",
        canonical_type=EventType.DOMAIN_RENEWED,
        item_index=0,
    )
    assert str(got) == "0576be8d-233b-5054-8451-9fa5fbbdcb45"
