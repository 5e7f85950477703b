"""Issue 12, "one canonical id on two partitions", on the real broker: the canonical id does not include the domain,
so a provider reusing an event id (or a forged e-mail reusing a real one) gives one id under two domains. The
normalized topic is keyed by canonical id, so both reach one deduplicator partition: the id is published once and
the second payload is kept under its derived collision id; the public topic stays keyed by domain."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.partitioner import murmur2

from regpipe.contract import from_kafka_record
from regpipe.dedup.decision import collision_id
from regpipe.dedup.fingerprint import fingerprint
from tests.dedup.events import expiring
from tests.dedup.harness import create_dedup_topics, dedup_config, produce_normalized, run_stage_until
from tests.kafka_io import committed_offsets, read_all

pytestmark = pytest.mark.integration

_PARTITIONS = 3


def _partition_of(key: str) -> int:
    partition: int = (murmur2(key.encode()) & 0x7FFFFFFF) % _PARTITIONS
    return partition


async def test_an_id_under_two_domains_is_published_once_and_the_other_payload_as_a_collision(
    kafka_bootstrap: str,
) -> None:
    config = dedup_config()
    await create_dedup_topics(kafka_bootstrap, config, partitions=_PARTITIONS)
    pairs = []
    for n in range(6):
        event_id = uuid.uuid4()
        first, second = f"real{n}.example", f"forged{n}.example"
        # Domains that a domain-keyed topic would put on two partitions (the finding).
        while _partition_of(second) == _partition_of(first):
            second = "x" + second
        pairs.append((expiring(event_id, domain=first), expiring(event_id, domain=second)))
    await produce_normalized(kafka_bootstrap, config.input_topic, [event for pair in pairs for event in pair])

    async def settled() -> bool:
        committed, ends = await committed_offsets(kafka_bootstrap, config.group_id, config.input_topic)
        return bool(ends) and committed == ends

    await run_stage_until(kafka_bootstrap, config, settled, "every input record committed")

    out = await read_all(kafka_bootstrap, config.output_topic)
    published = [from_kafka_record(r.value, list(r.headers)) for r in out]
    ids = [event.id for event in published]
    assert len(ids) == len(set(ids)) == 2 * len(pairs)
    for real, forged in pairs:
        assert ids.count(real.id) == 1
        assert collision_id(real.id, fingerprint(forged)) in ids
    # The first payload keeps the id; the public topic is keyed by domain, not by id.
    by_id = {event.id: event for event in published}
    assert {by_id[real.id].subject for real, _ in pairs} == {real.subject for real, _ in pairs}
    assert all(record.key == event.partition_key.encode() for record, event in zip(out, published, strict=True))
