"""Where the console reads from: the pipeline monitor, the aggregator's read API and delivery's admin API."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from regpipe.console.delivery_admin import DeliveryAdminClient
from regpipe.console.quarantine import QuarantineReader
from regpipe.console.read_model import ReadModelClient
from regpipe.monitor import MonitorTarget, PipelineSnapshot, PipelineView, build_view, collect_snapshot

__all__ = ["PipelineSource", "Sources"]


class PipelineSource:
    """Reads the pipeline the way the live view does; keeps the last snapshot so rates span two readings."""

    def __init__(self, target: MonitorTarget, client: httpx.AsyncClient) -> None:
        self._target = target
        self._client = client
        self._previous: PipelineSnapshot | None = None

    async def view(self) -> PipelineView:
        """The pipeline now, with rates since the previous reading."""
        current = await collect_snapshot(self._target, self._client)
        view = build_view(self._previous, current)
        self._previous = current
        return view


@dataclass(frozen=True, slots=True)
class Sources:
    """Every data source of the console: the monitor, the read API, the admin API, the quarantine topic."""

    pipeline: PipelineSource
    read_model: ReadModelClient
    delivery: DeliveryAdminClient
    quarantine: QuarantineReader
