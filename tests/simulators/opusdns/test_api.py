"""The OpusDNS simulator answers like the documented API (ordering, paging, filters, errors, auth, times) and its
misbehaviour knobs work. Asserted over plain HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from regpipe.providers.opusdns.payloads import Event, EventPage
from regpipe.simulators.opusdns import ALL_PERMISSIONS, FaultRates, OpusDnsSimulator, serve_simulator

_KEY = {"X-Api-Key": "opk_test"}
_RFC3339 = {**_KEY, "X-Datetime-Format": "rfc3339"}


@pytest.fixture
def sim() -> OpusDnsSimulator:
    return OpusDnsSimulator(
        api_keys={"opk_test": ALL_PERMISSIONS, "opk_manage_only": {"events:manage"}},
        clients={"organization_1": ("secret-1", {"events:read"})},
        seed=9,
    )


@pytest.fixture
async def http(sim: OpusDnsSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_simulator(sim) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def _page(http: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await http.get("/v1/events", params=params, headers=_RFC3339)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = orjson.loads(response.content)
    EventPage.model_validate(body)  # every answer is a valid page per the payload models
    return body


async def test_listing_defaults_newest_first_ten_per_page_unacknowledged(
    sim: OpusDnsSimulator, http: httpx.AsyncClient
) -> None:
    events = sim.generate(23, legacy_share=0.0)
    body = await _page(http)
    newest_first = [event["event_id"] for event in reversed(events)]
    assert [event["event_id"] for event in body["results"]] == newest_first[:10]
    assert body["pagination"] == {
        "total_pages": 3,
        "total_items": 23,
        "current_page": 1,
        "page_size": 10,
        "has_next_page": True,
        "has_previous_page": False,
    }
    last = await _page(http, page=3, sort_order="asc")
    assert [event["event_id"] for event in last["results"]] == [event["event_id"] for event in events[20:]]
    assert (last["pagination"]["has_next_page"], last["pagination"]["has_previous_page"]) == (False, True)
    assert (await _page(http, page=9))["results"] == []


async def test_acknowledging_moves_events_out_of_the_default_listing(
    sim: OpusDnsSimulator, http: httpx.AsyncClient
) -> None:
    events = sim.generate(4, legacy_share=0.0)
    first = events[0]["event_id"]
    assert (await http.patch(f"/v1/events/{first}", headers=_KEY)).status_code == 204
    again = await http.patch(f"/v1/events/{first}", headers=_KEY)
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"
    assert orjson.loads(again.content)["code"] == "ERROR_EVENT_NOT_FOUND"
    pending = await _page(http, sort_order="asc")
    assert [event["event_id"] for event in pending["results"]] == [event["event_id"] for event in events[1:]]
    done = await _page(http, acknowledged="true")
    assert [event["event_id"] for event in done["results"]] == [first]
    assert done["results"][0]["acknowledged_on"].endswith("Z")
    one = await http.get(f"/v1/events/{first}", headers=_KEY)
    assert Event.model_validate_json(one.content).acknowledged_on is not None


async def test_filters_select_by_object_and_kind(sim: OpusDnsSimulator, http: httpx.AsyncClient) -> None:
    events = sim.generate_every_combination()
    body = await _page(http, object_type="CONTACT", type="RENEWAL", subtype="FAILURE", page_size=1000)
    (match,) = body["results"]
    assert (match["object_type"], match["type"], match["subtype"]) == ("CONTACT", "RENEWAL", "FAILURE")
    by_id = await _page(http, object_id=events[0]["object_id"])
    assert events[0]["event_id"] in [event["event_id"] for event in by_id["results"]]
    by_object = await _page(http, sort_by="object_id", sort_order="asc", page_size=1000)
    object_ids = [event["object_id"] or "" for event in by_object["results"]]
    assert object_ids == sorted(object_ids)


@pytest.mark.parametrize(
    "params",
    [{"page_size": 1001}, {"page_size": 0}, {"page": 0}, {"sort_order": "up"}, {"type": "NOPE"}, {"acknowledged": "x"}],
)
async def test_invalid_parameters_are_422_problems(http: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await http.get("/v1/events", params=params, headers=_KEY)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = orjson.loads(response.content)
    assert problem["status"] == 422
    assert problem["errors"][0]["loc"] == ["query", next(iter(params))]


async def test_times_are_zone_less_unless_rfc3339_is_asked_for(sim: OpusDnsSimulator, http: httpx.AsyncClient) -> None:
    sim.generate(1, legacy_share=0.0)
    plain = orjson.loads((await http.get("/v1/events", headers=_KEY)).content)["results"][0]["created_on"]
    rfc = orjson.loads((await http.get("/v1/events", headers=_RFC3339)).content)["results"][0]["created_on"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", plain)
    assert rfc.endswith("Z")
    assert datetime.fromisoformat(plain).replace(tzinfo=UTC) == datetime.fromisoformat(rfc)


async def test_authentication_and_permissions(sim: OpusDnsSimulator, http: httpx.AsyncClient) -> None:
    (event,) = sim.generate(1)
    missing = await http.get("/v1/events")
    wrong = await http.get("/v1/events", headers={"X-Api-Key": "opk_nope"})
    assert [missing.status_code, wrong.status_code] == [401, 401]
    assert orjson.loads(wrong.content)["code"] == "ERROR_AUTHENTICATION"
    assert (await http.get("/v1/events", headers={"X-Api-Key": "opk_manage_only"})).status_code == 403
    form = await http.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "organization_1", "client_secret": "secret-1"},
    )
    as_json = await http.post(
        "/v1/auth/token",
        json={"grant_type": "client_credentials", "client_id": "organization_1", "client_secret": "secret-1"},
    )
    bad = await http.post(
        "/v1/auth/token", json={"grant_type": "client_credentials", "client_id": "organization_1", "client_secret": "x"}
    )
    assert [form.status_code, as_json.status_code, bad.status_code] == [200, 200, 401]
    token = orjson.loads(form.content)
    assert (token["token_type"], token["expires_in"]) == ("Bearer", 3600)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await http.get("/v1/events", headers=bearer)).status_code == 200
    forbidden = await http.patch(f"/v1/events/{event['event_id']}", headers=bearer)  # read-only client
    assert forbidden.status_code == 403
    assert sim.acked() == []


async def test_event_ids_are_validated(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/events/evt_1", headers=_KEY)).status_code == 422
    assert (await http.get("/v1/events/event_01h45ytscbebyvny4gc8cr8ma2", headers=_KEY)).status_code == 404


async def test_held_acknowledgements_wait_and_are_dropped_when_the_client_left(
    sim: OpusDnsSimulator, http: httpx.AsyncClient
) -> None:
    first, second = sim.generate(2)
    sim.hold_acks()
    held = asyncio.create_task(http.patch(f"/v1/events/{first['event_id']}", headers=_KEY))
    await sim.wait_for_held_ack(timeout_s=5)
    assert sim.acked() == []
    sim.release_acks()
    assert (await held).status_code == 204
    sim.hold_acks()
    async with httpx.AsyncClient(base_url=str(http.base_url)) as leaving:
        abandoned = asyncio.create_task(leaving.patch(f"/v1/events/{second['event_id']}", headers=_KEY))
        await sim.wait_for_held_ack(timeout_s=5)
        abandoned.cancel()  # the client goes away before the answer
        await asyncio.wait({abandoned})
    await asyncio.sleep(0.1)
    sim.release_acks()
    await asyncio.sleep(0.2)
    assert [ack.event_id for ack in sim.acked()] == [first["event_id"]]


async def test_duplicates_and_redelivery() -> None:
    sim = OpusDnsSimulator(api_keys={"opk_test": ALL_PERMISSIONS}, rates=FaultRates(duplicate=1.0))
    events = sim.generate(3)
    async with serve_simulator(sim) as url, httpx.AsyncClient(base_url=url) as client:
        body = orjson.loads((await client.get("/v1/events", headers=_KEY)).content)
        ids = [event["event_id"] for event in body["results"]]
        assert len(ids) == 4
        assert len(set(ids)) == 3
        await client.patch(f"/v1/events/{events[0]['event_id']}", headers=_KEY)
        sim.redeliver(events[0]["event_id"])
        assert events[0]["event_id"] in [event["event_id"] for event in sim.pending()]


async def test_admin_routes(http: httpx.AsyncClient) -> None:
    generated = orjson.loads((await http.post("/_sim/generate", params={"n": 5})).content)
    assert len(generated) == 5
    await http.post("/_sim/fail", params={"fault": "http_503", "endpoint": "list"})
    assert (await http.get("/v1/events", headers=_KEY)).status_code == 503
    pending = orjson.loads((await http.get("/_sim/pending")).content)
    assert len(pending) == 5
    stats = orjson.loads((await http.get("/_sim/stats")).content)
    assert stats["faults_served"] == {"http_503": 1}
    assert (await http.post("/_sim/fail", params={"fault": "nonsense"})).status_code == 400
