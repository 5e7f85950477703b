"""Faults on demand, the same way in every API simulator: faults a test scripted come first (each aimed at one
endpoint or action, or at any), then faults drawn from the simulator's seeded generator, so a run with the same
seed misbehaves the same way. Every fault served is counted, and a slow answer ends early once the simulator
closes (so a server can stop without waiting out a stall)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["FaultPlan"]

FaultT = TypeVar("FaultT")
TargetT = TypeVar("TargetT")


class FaultPlan(Generic[FaultT, TargetT]):
    """Which fault (if any) the next request to a target gets; `TargetT` names endpoints or actions."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.served: Counter[FaultT] = Counter()
        self._scripted: list[tuple[FaultT, TargetT | None]] = []
        self._closing = asyncio.Event()

    def script(self, fault: FaultT, count: int = 1, *, target: TargetT | None = None) -> None:
        """Serve `fault` to the next `count` requests to `target` (to any target if None)."""
        self._scripted.extend((fault, target) for _ in range(count))

    @property
    def scripted(self) -> int:
        """How many scripted faults are still to be served."""
        return len(self._scripted)

    def chance(self, rate: float) -> bool:
        """True with probability `rate` (0..1); a zero rate draws nothing, so it leaves the sequence untouched."""
        return rate > 0 and self.rng.random() < rate

    def draw(self, target: TargetT, seeded: Callable[[], FaultT | None]) -> FaultT | None:
        """The first scripted fault aimed at `target` (or at any), else `seeded()`; counted when there is one."""
        fault: FaultT | None = None
        for index, (scripted, aimed_at) in enumerate(self._scripted):
            if aimed_at is None or aimed_at == target:
                del self._scripted[index]
                fault = scripted
                break
        else:
            fault = seeded()
        if fault is not None:
            self.served[fault] += 1
        return fault

    async def stall(self, seconds: float) -> None:
        """Wait `seconds` before answering, or less if the simulator closes meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)

    def close(self) -> None:
        """Cut every stall short, now and later."""
        self._closing.set()
