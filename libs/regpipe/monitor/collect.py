"""Taking a snapshot: scrape every service's `/metrics` concurrently and read consumer lag from the broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from regpipe.kafka.connection import KafkaConnection
from regpipe.monitor.lag import consumer_lag
from regpipe.monitor.scrape import parse_metrics
from regpipe.monitor.snapshot import PipelineSnapshot, ServiceScrape

__all__ = ["MonitorTarget", "collect_snapshot"]


@dataclass(frozen=True, slots=True)
class MonitorTarget:
    """Where to read: each service's metrics URL, the broker, and the consumer groups to report lag for."""

    metrics_urls: dict[str, str]
    kafka: KafkaConnection | str | None
    groups: tuple[str, ...] = ()


async def _scrape(client: httpx.AsyncClient, service: str, url: str) -> ServiceScrape:
    try:
        answer = await client.get(url)
        answer.raise_for_status()
        return ServiceScrape(service, tuple(parse_metrics(answer.text)))
    except (httpx.HTTPError, ValueError) as exc:
        return ServiceScrape(service, error=type(exc).__name__)


async def collect_snapshot(
    target: MonitorTarget, client: httpx.AsyncClient, *, groups: Sequence[str] | None = None
) -> PipelineSnapshot:
    """One reading of the pipeline; unreachable services and an unreachable broker are reported, not raised."""
    scrapes = await asyncio.gather(*(_scrape(client, name, url) for name, url in target.metrics_urls.items()))
    wanted = tuple(groups if groups is not None else target.groups)
    lag: dict[str, int | None] = {}
    if target.kafka and wanted:
        try:
            lag = await asyncio.wait_for(consumer_lag(target.kafka, wanted), timeout=10)
        except TimeoutError:
            lag = dict.fromkeys(wanted)
    return PipelineSnapshot(time.monotonic(), {scrape.service: scrape for scrape in scrapes}, lag)
