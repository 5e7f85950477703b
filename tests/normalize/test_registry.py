"""The provider registry as the normalizer uses it: real provider records map, and no body, however broken,
makes a real provider's mapper escape the processor."""

from __future__ import annotations

import random

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regpipe.contract.raw import RawHeaders, raw_key
from regpipe.contract.sealing import RawSealer
from regpipe.contract.taxonomy import Source, Transport
from regpipe.normalize.processor import Mapped, Processor, Quarantined
from regpipe.normalize.registry import default_mappers
from regpipe.providers.coldmail.payloads import ColdMailEventType
from regpipe.providers.most.payloads import MostEventType, TaskType
from regpipe.simulators import coldmail as coldmail_simulator
from regpipe.simulators import most as most_simulator
from regpipe.streaming.record import RawRecord

_PROCESSOR = Processor(default_mappers(), RawSealer({}, None))


def _raw(source: Source, body: bytes, event_id: str | None = None, event_type: str | None = None) -> RawRecord:
    headers = RawHeaders(
        source=source,
        transport=Transport.WEBHOOK,
        content_type="application/json",
        provider_event_id=event_id,
        provider_event_type=event_type,
    )
    key = raw_key(source, event_id, body).encode()
    return RawRecord(topic="raw", partition=0, offset=1, key=key, value=body, headers=headers.to_kafka())


def test_every_registered_mapper_is_filed_under_its_own_source() -> None:
    mappers = default_mappers()

    assert set(mappers) == set(Source)
    assert all(source is mapper.source for source, mapper in mappers.items())


@pytest.mark.parametrize("event_type", coldmail_simulator.VARIANTS, ids=str)
def test_simulated_coldmail_webhooks_map(event_type: ColdMailEventType) -> None:
    webhook = coldmail_simulator.build_event(random.Random(7), event_type)

    result = _PROCESSOR.process(_raw(Source.COLDMAIL, webhook.body, webhook.event_id, webhook.event_type))

    assert isinstance(result, Mapped), result
    assert result.records


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Envelopes of every provider's usual shape, with a known event type and random content, reach deep into mappers.
_ENVELOPES = st.fixed_dictionaries(
    {
        "event": st.sampled_from([t.value for t in ColdMailEventType]),
        "type": st.sampled_from([t.value for t in ColdMailEventType]),
        "eventId": st.text(max_size=30),
        "id": st.text(max_size=30),
        "data": _JSON,
    }
)


@pytest.mark.parametrize("variant", most_simulator.VARIANTS, ids=lambda v: "-".join(str(x) for x in v if x))
def test_simulated_most_webhooks_map(variant: tuple[MostEventType, TaskType | None, str | None]) -> None:
    event_type, task_type, status = variant
    webhook = most_simulator.build_event(random.Random(7), event_type, task_type=task_type, status=status)

    result = _PROCESSOR.process(_raw(Source.MOST, webhook.body, webhook.event_id, webhook.event_type))

    assert isinstance(result, Mapped), result
    assert result.records


@settings(max_examples=300, deadline=None)
@given(
    source=st.sampled_from(sorted(default_mappers())),
    body=st.one_of(st.binary(max_size=300), _JSON.map(orjson.dumps), _ENVELOPES.map(orjson.dumps)),
)
def test_no_body_makes_a_real_mapper_escape_the_processor(source: Source, body: bytes) -> None:
    result = _PROCESSOR.process(_raw(source, body))

    assert isinstance(result, Mapped | Quarantined)
