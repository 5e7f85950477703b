"""The mapping deadline: a record past it gets its timeout result, the others their own, in order, whether the
worker thread answers the interruption (Python code) or is stuck in one long call (abandoned for a fresh one)."""

from __future__ import annotations

import asyncio
import threading
import time

from regpipe.normalize.deadline import DeadlineRunner


def _work(item: str) -> str:
    if item == "spin":
        while True:  # pure Python: the interruption lands between two bytecodes
            pass
    if item == "stuck":
        time.sleep(3)  # one C call: the interruption cannot land before it returns
    if item == "catches-everything":
        try:
            while True:
                pass
        except Exception:  # noqa: BLE001  # a mapper that swallows errors must not swallow the deadline
            return "swallowed"
    return item.upper()


def _timed_out(item: str) -> str:
    return f"timeout:{item}"


async def test_results_come_back_in_order_and_a_spinning_record_gets_its_timeout() -> None:
    runner = DeadlineRunner(_work, _timed_out, deadline_s=0.3)
    try:
        started = time.monotonic()
        results = await runner.run(["a", "spin", "b", "catches-everything", "c"])
        assert results == ["A", "timeout:spin", "B", "timeout:catches-everything", "C"]
        assert time.monotonic() - started < 20
        assert await runner.run(["d"]) == ["D"]  # the same thread goes on serving
    finally:
        runner.close()


async def test_a_thread_stuck_in_one_call_is_abandoned_and_the_rest_mapped_elsewhere() -> None:
    runner = DeadlineRunner(_work, _timed_out, deadline_s=0.2, grace_s=0.2)
    try:
        results = await runner.run(["a", "stuck", "b", "c"])
        assert results == ["A", "timeout:stuck", "B", "C"]
    finally:
        runner.close()


async def test_the_event_loop_keeps_running_while_a_record_is_mapped() -> None:
    runner = DeadlineRunner(_work, _timed_out, deadline_s=1.0)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    try:
        await runner.run(["spin"])
    finally:
        ticker.cancel()
        runner.close()
    assert ticks > 10  # heartbeats and the producer would have run too
    assert all(thread.name != "regpipe-mapping" or thread.daemon for thread in threading.enumerate())
