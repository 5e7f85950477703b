"""Which metrics say how many records a stage took in and gave out: the pipeline's stages as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

__all__ = ["STAGES", "Series", "StageSpec"]


@dataclass(frozen=True, slots=True)
class Series:
    """The sum of one metric's samples whose labels include `labels`."""

    metric: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StageSpec:
    """One stage: the service exporting its metrics, what counts as in and out, and its consumer group."""

    name: str
    service: str
    records_in: Series | None
    records_out: Series | None
    group: str | None = None


def _ingestor(service: str) -> StageSpec:
    return StageSpec(service, service, None, Series("regpipe_ingest_published_total"))


def _consumer(service: str, records_in: Series, records_out: Series) -> StageSpec:
    # Every consuming service's group is named after it (see each service's settings).
    return StageSpec(service, service, records_in, records_out, group=f"regpipe-{service}")


STAGES: Final[tuple[StageSpec, ...]] = (
    *(_ingestor(name) for name in ("webhook-receiver", "opensrs-poller", "opusdns-poller", "imap-parser")),
    _consumer(
        "normalizer",
        Series("regpipe_records_consumed_total", {"stage": "normalizer"}),
        Series("regpipe_mapped_events_total", {"stage": "normalizer"}),
    ),
    _consumer(
        "deduplicator",
        Series("regpipe_records_consumed_total", {"stage": "deduplicator"}),
        Series("regpipe_dedup_decisions_total", {"verdict": "publish"}),
    ),
    _consumer("aggregator", Series("regpipe_aggregator_records_total"), Series("regpipe_aggregator_outbox_sent_total")),
    _consumer(
        "delivery",
        Series("regpipe_delivery_jobs_created_total"),
        Series("regpipe_delivery_attempts_total", {"verdict": "delivered"}),
    ),
)
