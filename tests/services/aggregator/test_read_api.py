"""The read API through HTTP against the running aggregator: authentication, lookups, IDN names, cursor paging,
filters, 404 and 422; and what the service reports on /readyz and /metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from regpipe.contract import CanonicalEvent, EventType, Outcome, Source
from tests.aggregate.databases import fresh_database
from tests.aggregate.events import batch_event, domain_event, event, order_event
from tests.kafka_io import produce_events
from tests.services.aggregator.running import Replica, prepare

pytestmark = pytest.mark.integration

_IDN = "bücher.example"
_IDN_ACE = "xn--bcher-kva.example"
_SOON = datetime.now(UTC) + timedelta(days=5)


def _events() -> list[CanonicalEvent]:
    s = Source.OPENSRS
    timeline = [
        domain_event(f"t{i}", s, EventType.DOMAIN_NAMESERVERS_UPDATED, _IDN, minute=i, nameservers=[f"ns{i}.x"])
        for i in range(7)
    ]
    return [
        *timeline,
        domain_event("reg", s, EventType.DOMAIN_REGISTERED, _IDN, minute=10, expires_at=_SOON),
        domain_event(
            "tr1",
            s,
            EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
            "moving.example",
            minute=1,
            outcome=Outcome.NOTIFICATION,
            transfer_id="TR-1",
            transfer_status="pending_owner",
        ),
        domain_event(
            "tr2",
            s,
            EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
            "moving.example",
            minute=2,
            transfer_id="TR-1",
            transfer_status="completed",
        ),
        batch_event(
            "b1",
            EventType.ORDER_BATCH_REGISTERED,
            "BATCH-1",
            [("MO-1", "a.example", "REGISTERED"), ("MO-2", "b.example", "FAILED")],
            minute=3,
        ),
        order_event("b2", "BATCH-1", "MO-1", "a.example", "COMPLETED", minute=4),
        event(
            "task",
            Source.MOST,
            EventType.TASK_COMPLETED,
            minute=5,
            key="TASK-1",
            outcome=Outcome.SUCCESS,
            data={
                "task_id": "TASK-1",
                "task_type": "domain.get_auth_info",
                "status": "COMPLETED",
                "items": [{"domain": "a.example", "ok": True, "data": {"recipient": "r@x"}, "secret_withheld": True}],
                "succeeded_count": 1,
            },
        ),
        domain_event("cm", Source.COLDMAIL, EventType.DOMAIN_REGISTERED, "cold.example", minute=6, order_id="CM-1"),
        *[
            domain_event(f"m{i}", Source.OPUSDNS, EventType.DOMAIN_REGISTERED, f"many{i:02d}.example", minute=20 + i)
            for i in range(12)
        ],
    ]


@pytest.fixture(scope="module")
async def replica(
    kafka_bootstrap: str, pg_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Replica]:
    env = await prepare(kafka_bootstrap, await fresh_database(pg_dsn))
    events = _events()
    await produce_events(kafka_bootstrap, env.events_topic, [*events, *events[:5]])
    # a type this version does not know: counted and skipped, never a stall
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(env.events_topic, b"{}", key=b"x", headers=[("ce_type", b"domain.teleported")])
    finally:
        await producer.stop()
    running = Replica(env, tmp_path_factory.mktemp("aggregator"))
    running.process.start()
    try:
        await running.wait_ready()
        async with running.client() as client:
            deadline = time.monotonic() + 60
            while (await client.get("/domains/many11.example")).status_code != 200:
                assert time.monotonic() < deadline, running.process.log[-3000:]
                await asyncio.sleep(0.1)
        yield running
    finally:
        running.process.stop()


async def test_every_read_route_needs_a_known_bearer_token(replica: Replica) -> None:
    for token in (None, "wrong"):
        async with replica.client(token=token) as client:
            for path in ("/domains/a.example", "/domains", "/order-batches/BATCH-1", "/tasks/TASK-1"):
                answer = await client.get(path)
                assert answer.status_code == 401, path
                assert answer.json()["detail"]
    async with replica.client(token=None) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        assert "/domains/{name}" in (await client.get("/openapi.json")).json()["paths"]


async def test_a_domain_is_found_by_either_idn_form(replica: Replica) -> None:
    async with replica.client() as client:
        by_unicode = (await client.get(f"/domains/{_IDN}")).json()
        by_ace = (await client.get(f"/domains/{_IDN_ACE}")).json()
    assert by_unicode == by_ace
    assert by_ace["name"] == _IDN_ACE
    assert by_ace["name_unicode"] == _IDN
    [state] = by_ace["states"]
    assert state["provider"] == "opensrs"
    assert state["status"] == "registered"
    assert state["nameservers"] == ["ns6.x"]


async def test_the_timeline_pages_with_a_cursor_without_gaps_or_repeats(replica: Replica) -> None:
    seen: list[str] = []
    cursor = None
    async with replica.client() as client:
        while True:
            params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
            page = (await client.get(f"/domains/{_IDN}/events", params=params)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    expected = [str(e.id) for e in _events() if e.subject == _IDN_ACE]
    assert seen == expected  # oldest first by provider time, each once


async def test_domains_are_listed_by_filter_and_paged(replica: Replica) -> None:
    async with replica.client() as client:
        names: list[str] = []
        cursor = None
        while True:
            params = {"provider": "opusdns", "limit": "5", **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/domains", params=params)).json()
            names += [item["name"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert names == [f"many{i:02d}.example" for i in range(12)]
        expiring = (await client.get("/domains", params={"expiring_within": "7d"})).json()
        assert [item["name"] for item in expiring["items"]] == [_IDN_ACE]
        transferred = (await client.get("/domains", params={"status": "transferred_in"})).json()
        assert [item["name"] for item in transferred["items"]] == ["moving.example"]


async def test_batches_orders_tasks_and_transfers(replica: Replica) -> None:
    async with replica.client() as client:
        batch = (await client.get("/order-batches/BATCH-1")).json()
        order = (await client.get("/orders/MO-1")).json()
        coldmail = (await client.get("/orders/CM-1")).json()
        task = (await client.get("/tasks/TASK-1")).json()
        transfer = (await client.get("/transfers/TR-1")).json()
    assert batch["status"] == "completed"  # every order terminal, though only stage 1 was reported
    assert batch["stage1_finished_at"] is not None
    assert batch["stage2_finished_at"] is None
    assert batch["status_counts"] == {"COMPLETED": 1, "FAILED": 1}
    assert (order["status"], order["batch_id"], order["terminal"]) == ("COMPLETED", "BATCH-1", True)
    assert coldmail["kind"] == "coldmail_order"
    assert [item["domain"] for item in coldmail["items"]] == ["cold.example"]
    assert task["status"] == "COMPLETED"
    assert task["items"][0]["secret_withheld"] is True
    assert (transfer["status"], transfer["terminal"]) == ("completed", True)
    assert [h["status"] for h in transfer["history"]] == ["pending_owner", "completed"]


async def test_unknown_ids_are_404_and_bad_parameters_422_as_json(replica: Replica) -> None:
    async with replica.client() as client:
        for path in (
            "/domains/nowhere.example",
            "/order-batches/nope",
            "/orders/nope",
            "/tasks/nope",
            "/transfers/nope",
            "/domains/nowhere.example/events",
        ):
            answer = await client.get(path)
            assert answer.status_code == 404, path
            assert answer.json()["detail"]
        for path, params in (
            ("/domains", {"expiring_within": "soon"}),
            ("/domains", {"cursor": "not-a-cursor"}),
            ("/domains", {"limit": "0"}),
            (f"/domains/{_IDN}/events", {"cursor": "eyJ4IjoxfQ"}),
            ("/domains/bad name!", {}),
        ):
            answer = await client.get(path, params=params)
            assert answer.status_code == 422, (path, params, answer.text)
            assert "detail" in answer.json()


async def test_an_unknown_event_type_is_counted_and_skipped(replica: Replica) -> None:
    async with replica.client(token=None) as client:
        metrics = (await client.get("/metrics")).text
    assert 'regpipe_aggregator_records_total{outcome="unknown_type"} 1.0' in metrics
    assert 'regpipe_aggregator_records_total{outcome="duplicate"} 5.0' in metrics


async def test_no_token_reaches_a_log(replica: Replica) -> None:
    async with replica.client() as client:
        assert (await client.get("/domains/a.example")).status_code == 200  # the token was used
    assert "test-reader-token" not in replica.process.log
