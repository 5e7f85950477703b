"""The OpenSRS XML API simulator: queue semantics, protocol errors, misbehaviour knobs, held ACKs, admin routes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from regpipe.providers.opensrs.client import OpenSRSClient
from regpipe.providers.opensrs.errors import OpenSRSError, TransportError
from regpipe.providers.opensrs.payloads import Reply
from regpipe.providers.opensrs.protocol import decode_reply, encode_request
from regpipe.providers.opensrs.signature import sign
from regpipe.simulators.opensrs.api import Fault, FaultRates, OpenSRSSimulator, serve_simulator
from regpipe.simulators.opensrs.events import generate_events

USER = "reseller-sim"
KEY = "fedcba9876543210fedcba9876543210"


@pytest.fixture
async def simulator() -> OpenSRSSimulator:
    return OpenSRSSimulator({USER: KEY, "other": "other-key"}, seed=3)


@pytest.fixture
async def url(simulator: OpenSRSSimulator) -> AsyncIterator[str]:
    async with serve_simulator(simulator) as base_url:
        yield base_url


async def _raw_call(url: str, action: str, attributes: dict[str, str], *, object_name: str = "EVENT") -> Reply:
    body = encode_request(action, attributes, object_name=object_name)
    headers = {"Content-Type": "text/xml", "X-Username": USER, "X-Signature": sign(body, KEY)}
    async with httpx.AsyncClient() as http:
        response = await http.post(url + "/", content=body, headers=headers)
    assert response.status_code == 200
    return decode_reply(response.content)


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1", "\u0663"])
async def test_poll_limit_outside_1_to_100_is_invalid_data(url: str, limit: str) -> None:
    reply = await _raw_call(url, "POLL", {"limit": limit})
    assert (reply.is_success, reply.response_code) == (False, 465)


async def test_poll_limit_100_returns_at_most_100_oldest_first(simulator: OpenSRSSimulator, url: str) -> None:
    events = simulator.generate(USER, 120)
    reply = await _raw_call(url, "POLL", {"limit": "100"})
    items = reply.attributes["events"]
    assert isinstance(items, list)
    assert [item["event_id"] for item in items if isinstance(item, dict)] == [e["event_id"] for e in events[:100]]


async def test_unknown_command_and_missing_event_id(url: str) -> None:
    assert (await _raw_call(url, "DELETE", {})).response_code == 430
    assert (await _raw_call(url, "POLL", {}, object_name="DOMAIN")).response_code == 430
    assert (await _raw_call(url, "ACK", {})).response_code == 460


async def test_not_an_envelope_is_refused_inside_xml(url: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(url + "/", content=b"<nope", headers={"X-Username": USER})
    reply = decode_reply(response.content)
    assert (reply.is_success, reply.response_code) == (False, 465)


async def test_queues_are_per_reseller(simulator: OpenSRSSimulator, url: str) -> None:
    simulator.generate("other", 3)
    async with OpenSRSClient(url, username=USER, api_key=KEY) as mine:
        assert (await mine.poll(10)).event_ids == ()
    async with OpenSRSClient(url, username="other", api_key="other-key") as theirs:
        assert len((await theirs.poll(10)).event_ids) == 3
    assert simulator.polls_by_user == {USER: 1, "other": 1}


async def test_duplicates_share_an_event_id_and_each_copy_needs_its_ack(url: str) -> None:
    simulator = OpenSRSSimulator({USER: KEY}, seed=5, rates=FaultRates(duplicate=1.0))
    (event,) = simulator.generate(USER, 1)
    assert [queued["event_id"] for queued in simulator.queued(USER)] == [event["event_id"]] * 2
    async with serve_simulator(simulator) as base, OpenSRSClient(base, username=USER, api_key=KEY) as client:
        assert (await client.poll(5)).event_ids == (event["event_id"],) * 2
        assert (await client.ack(event["event_id"])).events_remaining == 1
        assert (await client.ack(event["event_id"])).events_remaining == 0
        assert not (await client.ack(event["event_id"])).known


async def test_held_ack_is_applied_only_once_released(simulator: OpenSRSSimulator, url: str) -> None:
    (event,) = simulator.generate(USER, 1)
    simulator.hold_acks()
    async with OpenSRSClient(url, username=USER, api_key=KEY) as client:
        pending = asyncio.create_task(client.ack(event["event_id"]))
        await simulator.wait_for_held_ack(timeout_s=5)
        await asyncio.sleep(0.05)
        assert not pending.done()
        assert simulator.acked() == []
        simulator.release_acks()
        assert (await pending).events_remaining == 0
    assert [ack.event_id for ack in simulator.acked()] == [event["event_id"]]


async def test_held_ack_whose_client_went_away_is_never_applied(simulator: OpenSRSSimulator, url: str) -> None:
    (event,) = simulator.generate(USER, 1)
    simulator.hold_acks()
    async with OpenSRSClient(url, username=USER, api_key=KEY) as client:
        pending = asyncio.create_task(client.ack(event["event_id"]))
        await simulator.wait_for_held_ack(timeout_s=5)
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
    simulator.release_acks()
    await asyncio.sleep(0.2)
    assert simulator.acked() == []
    assert simulator.queued(USER) == [event]
    assert simulator.ack_attempts[event["event_id"]] == 1


async def test_malformed_reply_to_an_ack_still_applies_it(simulator: OpenSRSSimulator, url: str) -> None:
    # The nastiest case for a client: the server did it, but the answer is garbage.
    (event,) = simulator.generate(USER, 1)
    simulator.fail_next(Fault.MALFORMED, action="ACK")
    async with OpenSRSClient(url, username=USER, api_key=KEY) as client:
        with pytest.raises(TransportError):
            await client.ack(event["event_id"])
        assert (await client.poll()).event_ids == ()
    assert simulator.faults_served[Fault.MALFORMED] == 1


async def test_fault_rates_draw_faults_reproducibly() -> None:
    counts = []
    for _ in range(2):
        simulator = OpenSRSSimulator({USER: KEY}, seed=9, rates=FaultRates(http_5xx=0.3, error_reply=0.3))
        simulator.generate(USER, 1)
        async with serve_simulator(simulator) as base, OpenSRSClient(base, username=USER, api_key=KEY) as client:
            outcomes: list[int | str] = []
            for _ in range(30):
                try:
                    outcomes.append(len((await client.poll()).event_ids))
                except OpenSRSError as exc:
                    outcomes.append(type(exc).__name__)
        counts.append(outcomes)
    assert counts[0] == counts[1]
    assert {"TransportError", "ReplyError", 1} <= set(counts[0])


async def test_admin_routes(simulator: OpenSRSSimulator, url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        generated = (await http.post("/_sim/generate", params={"username": USER, "n": 3})).json()
        assert len(generated) == 3
        extra = generate_events(random.Random(99), 1)
        assert (await http.post("/_sim/events", params={"username": USER}, content=orjson.dumps(extra))).json() == {
            "queued": 4
        }
        queue = (await http.get("/_sim/queue", params={"username": USER})).json()
        assert [event["event_id"] for event in queue] == [e["event_id"] for e in generated + extra]
        async with OpenSRSClient(url, username=USER, api_key=KEY) as client:
            await client.ack(generated[0]["event_id"])
        acked = (await http.get("/_sim/acked", params={"username": USER})).json()
        assert [entry["event_id"] for entry in acked] == [generated[0]["event_id"]]
        assert (await http.get("/_sim/stats")).json()["acked"] == 1
        assert (await http.get("/_sim/queue", params={"username": "ghost"})).status_code == 400
        assert (await http.post("/_sim/events", params={"username": USER}, content=b"{}")).status_code == 400
        assert (await http.get("/_sim/nothing")).status_code == 404


def test_later_batches_happen_after_earlier_ones() -> None:
    simulator = OpenSRSSimulator({USER: KEY}, seed=8)
    first = simulator.generate(USER, 5)
    second = simulator.generate(USER, 5)
    assert first[-1]["event_date"] < second[0]["event_date"]
