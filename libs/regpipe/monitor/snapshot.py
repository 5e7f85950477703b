"""A point-in-time reading of the pipeline: every service's samples and every consumer group's lag."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from regpipe.monitor.scrape import Sample

__all__ = ["PipelineSnapshot", "ServiceScrape"]


@dataclass(frozen=True, slots=True)
class ServiceScrape:
    """One service's `/metrics`, or why it could not be read."""

    service: str
    samples: tuple[Sample, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PipelineSnapshot:
    """What was read at `taken_at` (monotonic seconds): scrapes by service, lag by group (None: unknown)."""

    taken_at: float
    scrapes: Mapping[str, ServiceScrape] = field(default_factory=dict)
    lag: Mapping[str, int | None] = field(default_factory=dict)

    def samples(self, service: str | None = None) -> list[Sample]:
        """The samples of one service, or of all of them."""
        if service is not None:
            scrape = self.scrapes.get(service)
            return list(scrape.samples) if scrape else []
        return [sample for scrape in self.scrapes.values() for sample in scrape.samples]
