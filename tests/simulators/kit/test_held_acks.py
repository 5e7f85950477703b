"""Held acknowledgements: they wait until released, the test learns when one arrived, and one whose client went
away meanwhile is refused (so it is never applied)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import Message

from regpipe.simulators.kit.held_acks import HeldAcks


def _request(*, client_gone: bool) -> Request:
    async def receive() -> Message:
        if client_gone:
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # a client that stays connected and sends nothing more
        raise AssertionError("unreachable")

    return Request({"type": "http", "method": "PATCH", "path": "/", "headers": []}, receive)


async def test_an_open_gate_admits_at_once() -> None:
    acks = HeldAcks()
    assert await asyncio.wait_for(acks.admit(_request(client_gone=False)), timeout=30)


async def test_a_held_ack_waits_until_released() -> None:
    acks = HeldAcks()
    acks.hold()
    admitted = asyncio.create_task(acks.admit(_request(client_gone=False)))
    await acks.wait_for_held(timeout_s=30)
    assert not admitted.done()
    acks.release()
    assert await asyncio.wait_for(admitted, timeout=30)


async def test_a_held_ack_whose_client_went_away_is_refused() -> None:
    acks = HeldAcks()
    acks.hold()
    admitted = asyncio.create_task(acks.admit(_request(client_gone=True)))
    await acks.wait_for_held(timeout_s=30)
    acks.release()
    assert not await asyncio.wait_for(admitted, timeout=30)
