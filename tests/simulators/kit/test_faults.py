"""The fault kit: scripted faults first (aimed at a target or at any), then seeded draws that a fixed seed
repeats; every fault served is counted; stalls end early when the simulator closes."""

from __future__ import annotations

import asyncio
import random
import time

from regpipe.simulators.kit.faults import FaultPlan


def _never() -> str | None:
    return None


def test_scripted_faults_come_first_and_only_to_their_target() -> None:
    plan: FaultPlan[str, str] = FaultPlan(random.Random(0))
    plan.script("boom", 2, target="ack")
    plan.script("slow")
    assert plan.scripted == 3
    assert plan.draw("poll", lambda: "seeded") == "slow"  # the ACK faults wait for an ACK
    assert plan.draw("poll", lambda: "seeded") == "seeded"
    assert [plan.draw("ack", _never) for _ in range(3)] == ["boom", "boom", None]
    assert plan.scripted == 0
    assert plan.served == {"boom": 2, "slow": 1, "seeded": 1}


def test_seeded_draws_repeat_with_the_seed_and_zero_rates_draw_nothing() -> None:
    def draws(seed: int) -> list[bool]:
        plan: FaultPlan[str, str] = FaultPlan(random.Random(seed))
        return [plan.chance(0.3) for _ in range(200)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    assert 30 < sum(draws(1)) < 90
    rng = random.Random(5)
    plan: FaultPlan[str, str] = FaultPlan(rng)
    assert not any(plan.chance(0.0) for _ in range(10))
    assert rng.random() == random.Random(5).random()  # the zero rate left the sequence where it was


async def test_a_stall_ends_as_soon_as_the_plan_closes() -> None:
    plan: FaultPlan[str, str] = FaultPlan(random.Random(0))
    started = time.monotonic()
    stalled = asyncio.create_task(plan.stall(120))
    await asyncio.sleep(0)  # let the stall begin
    assert not stalled.done()
    plan.close()
    await asyncio.wait_for(stalled, timeout=30)
    assert time.monotonic() - started < 30
    await asyncio.wait_for(plan.stall(120), timeout=30)  # and later stalls do not wait at all
