"""The deduplicator's bounded memory: every id published within the window is remembered, older ones are forgotten
a slice later at the latest, and an id costs well under the 311 bytes of the unbounded `uuid.UUID` map."""

from __future__ import annotations

import os
import tracemalloc
import uuid

from regpipe.dedup.decision import SeenEntry
from regpipe.dedup.state import PartitionState

_ENTRY = SeenEntry(fingerprint=bytes(16), mapper_version="most/1.0.0")


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_id_is_remembered_for_the_whole_window_and_forgotten_one_slice_after() -> None:
    clock = _Clock()
    state = PartitionState(window_s=80.0, clock=clock)  # eight slices of 10 s
    first = uuid.uuid4()
    state.remember(first, _ENTRY)
    for _ in range(79):  # one new id a second, for just under the window
        clock.now += 1
        state.remember(uuid.uuid4(), _ENTRY)
        assert state.get(first) == _ENTRY
    for _ in range(20):
        clock.now += 1
        state.remember(uuid.uuid4(), _ENTRY)
    assert first not in state


def test_memory_is_bounded_by_the_window_whatever_the_number_of_ids() -> None:
    clock = _Clock()
    state = PartitionState(window_s=80.0, clock=clock)
    sizes = []
    for _ in range(1_000):  # 1,000 s at ten ids a second: twelve windows
        clock.now += 1
        for _ in range(10):
            state.remember(uuid.uuid4(), _ENTRY)
        sizes.append(len(state))
    assert max(sizes) <= 10 * (80 + 10 + 1)
    assert min(sizes[200:]) >= 10 * 80  # and never less than the window holds


def test_entries_read_from_the_changelog_keep_their_time() -> None:
    clock = _Clock()
    state = PartitionState(window_s=80.0, clock=clock)
    old, recent = os.urandom(16), os.urandom(16)
    state.remember_packed(old, bytes(16) + b"v", at_s=clock.now - 200)
    state.remember_packed(recent, bytes(16) + b"v", at_s=clock.now - 50)
    assert state.lookup(old) is None
    assert state.lookup(recent) == bytes(16) + b"v"


def test_an_id_costs_less_than_200_bytes() -> None:
    state = PartitionState(window_s=1e9)
    ids = [uuid.uuid4() for _ in range(50_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for event_id in ids:
            state.remember(event_id, _ENTRY)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used / len(ids) < 200
