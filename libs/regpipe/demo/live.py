"""The run command's live view: per stage rates and lag, quarantine, leaders, deliveries, read-model counts and
the last canonical events, redrawn in place on a terminal; a plain summary every few seconds elsewhere.

It reads what an operator reads in production (`regpipe.monitor`: the services' `/metrics` and the broker's
consumer-group offsets); only the recent-events panel comes from the demo's own reader of the public topic.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

import httpx
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from regpipe.demo.printer import FlowCounts
from regpipe.monitor import MonitorTarget, PipelineSnapshot, PipelineView, build_view, collect_snapshot

__all__ = ["LiveView", "plain_summary", "render_view"]


def _num(value: float | None, fmt: str = "{:.0f}") -> str:
    return "-" if value is None else fmt.format(value)


def _pairs(values: dict[str, float]) -> str:
    return ", ".join(f"{key}={value:.0f}" for key, value in sorted(values.items())) or "none"


def render_view(view: PipelineView, counts: FlowCounts, recent: Sequence[str]) -> RenderableType:
    """The terminal screen for one reading (pure: the same inputs give the same screen)."""
    stages = Table(title="stages", expand=True, title_justify="left")
    for column in ("stage", "up", "in", "in/s", "out", "out/s", "lag"):
        stages.add_column(column, justify="left" if column in ("stage", "up") else "right")
    for row in view.stages:
        stages.add_row(
            row.name,
            Text("up", style="green") if row.up else Text("down", style="red"),
            _num(row.total_in),
            _num(row.in_per_s, "{:.1f}"),
            _num(row.total_out),
            _num(row.out_per_s, "{:.1f}"),
            _num(row.lag),
        )
    facts = Table.grid(padding=(0, 2))
    facts.add_row("quarantined", _pairs(view.quarantined))
    facts.add_row("dead-lettered", _num(view.dead_lettered))
    facts.add_row("deliveries", _pairs(view.deliveries))
    facts.add_row("read model", _pairs(view.read_model))
    facts.add_row(
        "leaders", ", ".join(f"{lease} ({holder})" for lease, holder in sorted(view.leaders.items())) or "none"
    )
    facts.add_row("public stream", f"{len(counts.ids)} distinct ids, {counts.doubled} published twice")
    events = Table(title="last canonical events on registrar.events.v1", expand=True, title_justify="left")
    events.add_column("time  source  transport  type  outcome  subject  id", no_wrap=True, overflow="ellipsis")
    for line in recent:
        events.add_row(line)
    return Group(stages, facts, events)


def plain_summary(view: PipelineView, counts: FlowCounts) -> str:
    """A few lines for a non-terminal (CI logs, pipes)."""
    stage_parts = [
        f"{row.name}: {'up' if row.up else 'DOWN'} in={_num(row.total_in)} out={_num(row.total_out)} "
        f"out/s={_num(row.out_per_s, '{:.1f}')} lag={_num(row.lag)}"
        for row in view.stages
    ]
    return "\n".join(
        [
            "-- pipeline " + "-" * 60,
            *stage_parts,
            f"quarantined: {_pairs(view.quarantined)}; dead-lettered: {_num(view.dead_lettered)}",
            f"deliveries: {_pairs(view.deliveries)}; read model: {_pairs(view.read_model)}",
            f"public stream: {len(counts.ids)} distinct ids, {counts.doubled} published twice",
        ]
    )


class LiveView:
    """Redraws (terminal) or prints (plain) the pipeline every `interval_s` until `stop` is set."""

    def __init__(
        self,
        target: MonitorTarget,
        counts: FlowCounts,
        recent: deque[str],
        console: Console,
        *,
        interval_s: float = 2.0,
        plain: bool | None = None,
    ) -> None:
        self._target = target
        self._counts = counts
        self._recent = recent
        self._console = console
        self._interval_s = interval_s
        self._plain = (not console.is_terminal) if plain is None else plain

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: read the pipeline and show it."""
        previous: PipelineSnapshot | None = None
        async with httpx.AsyncClient(timeout=2.0) as client:
            if self._plain:
                while not stop.is_set():
                    current = await collect_snapshot(self._target, client)
                    self._console.print(plain_summary(build_view(previous, current), self._counts), highlight=False)
                    previous = current
                    await self._pause(stop, max(self._interval_s, 5.0))
                return
            with Live(console=self._console, auto_refresh=False, transient=False) as live:
                while not stop.is_set():
                    current = await collect_snapshot(self._target, client)
                    live.update(render_view(build_view(previous, current), self._counts, list(self._recent)))
                    live.refresh()
                    previous = current
                    await self._pause(stop, self._interval_s)

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            return
