"""The Most webhook events: every documented event type and task outcome, payloads our models and mapper read,
deterministic per seed."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel

from regpipe.contract.raw import RawHeaders
from regpipe.contract.taxonomy import Source, Transport
from regpipe.providers.mapper import RawInput
from regpipe.providers.most import payloads
from regpipe.providers.most.mapping import map_record
from regpipe.simulators.most import VARIANTS, generate

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
EVENTS = generate(random.Random(7), len(VARIANTS) * 4, now=NOW)


def _documents() -> list[dict[str, Any]]:
    return [orjson.loads(event.body) for event in EVENTS]


def test_covers_every_event_type_and_every_task_type_with_every_status() -> None:
    documents = _documents()
    assert {d["type"] for d in documents} == {t.value for t in payloads.MostEventType}
    tasks = {(d["data"]["type"], d["data"]["status"]) for d in documents if d["type"] == "task.completed"}
    assert tasks == {(t.value, s) for t in payloads.TaskType for s in ("COMPLETED", "PARTIAL", "FAILED")}


def test_every_event_parses_with_the_payload_models_and_maps() -> None:
    models: dict[str, type[BaseModel]] = {
        "task.completed": payloads.Task,
        "orders.registered": payloads.OrderBatch,
        "orders.completed": payloads.OrderBatch,
        "domain.expiring": payloads.DomainExpiring,
        "domain.deleting": payloads.DomainDeleting,
        "domain.blocked": payloads.DomainBlocked,
        "domain.complaint": payloads.DomainComplaint,
        "balance.low": payloads.BalanceLow,
    }
    for event in EVENTS:
        envelope = payloads.MostEnvelope.model_validate_json(event.body)
        assert (envelope.id, envelope.type) == (event.event_id, event.event_type)
        models[envelope.type].model_validate(envelope.data)
        headers = RawHeaders(source=Source.MOST, transport=Transport.WEBHOOK, provider_event_id=event.event_id)
        assert map_record(RawInput(body=event.body, headers=headers))


def test_task_statuses_agree_with_their_items() -> None:
    for document in _documents():
        if document["type"] != "task.completed":
            continue
        task = document["data"]
        oks = [item["ok"] for item in task["result"]]
        expected = {"COMPLETED": all(oks) and oks, "FAILED": not any(oks), "PARTIAL": any(oks) and not all(oks)}
        assert expected[task["status"]], task
        for item in task["result"]:
            assert set(item) == {"domain", "ok", "data", "error"}
            if item["ok"] and task["type"] == "domain.get_auth_info":
                assert item["data"]["authInfo"]
                assert "@" in item["data"]["recipient"]
            if item["ok"] and task["type"] == "domain.renew":
                assert {"term", "newExpiry"} == set(item["data"])
            if not item["ok"]:
                assert item["error"]


def test_order_batches_checkpoints_and_balances_are_plausible() -> None:
    for document in _documents():
        data = document["data"]
        match document["type"]:
            case "orders.registered" | "orders.completed":
                assert 1 <= len(data["orders"]) <= 50
                failed = sum(order["status"] == "FAILED" for order in data["orders"])
                assert data["failed"] == failed
                done = "registered" if document["type"] == "orders.registered" else "completed"
                assert data[done] == len(data["orders"]) - failed
            case "domain.expiring":
                assert data["checkpoint"] in (30, 7, 6, 5, 4, 3, 2, 1)
                assert data["checkpoint"] - 1 < data["daysLeft"] <= data["checkpoint"]
            case "balance.low":
                assert data["threshold"] in (1000, 500, 200, 100, 50, 10)
                assert data["balance"] < data["threshold"]
                assert data["source"] in ("live", "approx")
                assert data["currency"] == "USD"


def test_same_seed_same_events_other_seed_other_events() -> None:
    again = generate(random.Random(7), len(EVENTS), now=NOW)
    assert [e.body for e in again] == [e.body for e in EVENTS]
    other = generate(random.Random(8), len(EVENTS), now=NOW)
    assert not {e.body for e in other} & {e.body for e in EVENTS}
    assert len({e.event_id for e in EVENTS}) == len(EVENTS)
    assert Counter(e.event_type for e in EVENTS)["task.completed"] == 9 * 4
