"""The tests' one topic reader on the real broker: a tail starts where the topic ended, keeps only what its decode
function accepts, and `read_all` / `read_since` read exactly what a topic holds."""

from __future__ import annotations

import pytest

from tests.kafka_io import (
    Record,
    TopicTail,
    create_topics,
    end_offsets,
    produce_records,
    read_all,
    read_since,
    unique,
)

pytestmark = pytest.mark.integration


def _mine(record: Record) -> bytes | None:
    return record.value if record.key == b"mine" else None


async def test_a_tail_reads_from_where_the_topic_ended_and_keeps_what_its_decoder_accepts(kafka_bootstrap: str) -> None:
    topic = unique("test.tail")
    await create_topics(kafka_bootstrap, [topic])
    await produce_records(kafka_bootstrap, topic, [(b"mine", b"before", [])])
    async with TopicTail(kafka_bootstrap, _mine, topic) as tail:
        await produce_records(kafka_bootstrap, topic, [(b"mine", b"1", []), (b"other", b"x", []), (b"mine", b"2", [])])
        assert sorted(await tail.wait_for(2)) == [b"1", b"2"]
        assert sorted(await tail.drain()) == [b"1", b"2"]  # nothing of before the tail, nothing of others
    since = await end_offsets(kafka_bootstrap, topic)
    await produce_records(kafka_bootstrap, topic, [(b"mine", b"3", [])])
    assert [r.value for r in await read_since(kafka_bootstrap, since, until=lambda rs: len(rs) >= 1)] == [b"3"]
    assert sorted(r.value for r in await read_all(kafka_bootstrap, topic)) == [b"1", b"2", b"3", b"before", b"x"]
