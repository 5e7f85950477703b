"""Per-endpoint capacity: concurrency slots and the token bucket, with an explicit clock."""

from __future__ import annotations

import uuid

from regpipe.delivery.endpoint_slots import EndpointSlots, TokenBucket

_A, _B = uuid.uuid4(), uuid.uuid4()


def test_concurrency_slots_are_per_endpoint() -> None:
    slots = EndpointSlots()
    assert slots.free(_A, 2, None, 0.0) == 2
    slots.started(_A, 2)
    assert slots.free(_A, 2, None, 0.0) == 0
    assert slots.free(_B, 2, None, 0.0) == 2  # a full endpoint leaves the others alone
    slots.finished(_A)
    assert slots.free(_A, 2, None, 0.0) == 1
    assert slots.total == 1


def test_rate_limit_refills_over_time() -> None:
    slots = EndpointSlots()
    assert slots.free(_A, 10, 2.0, 0.0) == 1  # a fresh bucket holds one token
    slots.started(_A)
    slots.finished(_A)
    assert slots.free(_A, 10, 2.0, 0.1) == 0
    assert slots.free(_A, 10, 2.0, 0.5) == 1
    assert slots.free(_A, 10, 2.0, 5.0) == 2  # never more than one second's worth


def test_bucket_burst_is_at_least_one() -> None:
    bucket = TokenBucket(rate=0.5, tokens=0.0, updated=0.0)
    assert bucket.available(1.0) == 0
    assert bucket.available(2.0) == 1
    assert bucket.available(100.0) == 1
