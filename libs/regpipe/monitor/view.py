"""The pipeline as an operator reads it, computed from two snapshots by pure functions (no I/O)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from regpipe.monitor.scrape import Sample
from regpipe.monitor.snapshot import PipelineSnapshot
from regpipe.monitor.stages import STAGES, Series, StageSpec

__all__ = ["PipelineView", "StageRow", "build_view", "series_total", "totals_by_label"]

_QUARANTINED = "regpipe_quarantined_total"
_DLQ = "regpipe_delivery_dead_total"
_DELIVERIES = "regpipe_delivery_attempts_total"
_READ_MODEL = "regpipe_read_model_rows"
_LEADER = "regpipe_leader"


@dataclass(frozen=True, slots=True)
class StageRow:
    """One stage: totals so far, rates over the interval between the snapshots, and its group's lag."""

    name: str
    up: bool
    total_in: float | None
    total_out: float | None
    in_per_s: float | None
    out_per_s: float | None
    lag: int | None


@dataclass(frozen=True, slots=True)
class PipelineView:
    """Everything the live view and the console's pipeline page show."""

    stages: tuple[StageRow, ...]
    quarantined: dict[str, float] = field(default_factory=dict)  # by reason
    dead_lettered: float = 0.0
    deliveries: dict[str, float] = field(default_factory=dict)  # attempts by verdict
    read_model: dict[str, float] = field(default_factory=dict)  # rows by table
    leaders: dict[str, str] = field(default_factory=dict)  # "service/account" -> holder service


def _matches(sample: Sample, series: Series) -> bool:
    if sample.name != series.metric:
        return False
    return all(sample.label(key) == value for key, value in series.labels.items())


def series_total(samples: Iterable[Sample], series: Series) -> float | None:
    """The sum of the matching samples, or None when the metric is not exported at all."""
    matching = [sample.value for sample in samples if _matches(sample, series)]
    return sum(matching) if matching else None


def totals_by_label(samples: Iterable[Sample], metric: str, label: str) -> dict[str, float]:
    """The sum of one metric's samples grouped by one label."""
    totals: dict[str, float] = defaultdict(float)
    for sample in samples:
        if sample.name == metric:
            totals[sample.label(label) or ""] += sample.value
    return dict(totals)


def _rate(now: float | None, before: float | None, seconds: float) -> float | None:
    if now is None or before is None or seconds <= 0:
        return None
    # A restarted service starts its counters at zero again: report the new count, not a negative rate.
    return (now - before if now >= before else now) / seconds


def _row(spec: StageSpec, previous: PipelineSnapshot | None, current: PipelineSnapshot) -> StageRow:
    scrape = current.scrapes.get(spec.service)
    samples = current.samples(spec.service)
    old = previous.samples(spec.service) if previous is not None else []
    seconds = current.taken_at - previous.taken_at if previous is not None else 0.0
    total_in = series_total(samples, spec.records_in) if spec.records_in else None
    total_out = series_total(samples, spec.records_out) if spec.records_out else None
    in_before = series_total(old, spec.records_in) if spec.records_in and previous else None
    out_before = series_total(old, spec.records_out) if spec.records_out and previous else None
    return StageRow(
        name=spec.name,
        up=scrape is not None and scrape.error is None,
        total_in=total_in,
        total_out=total_out,
        in_per_s=_rate(total_in, in_before, seconds),
        out_per_s=_rate(total_out, out_before, seconds),
        lag=current.lag.get(spec.group) if spec.group else None,
    )


def build_view(
    previous: PipelineSnapshot | None, current: PipelineSnapshot, stages: Sequence[StageSpec] = STAGES
) -> PipelineView:
    """The view at `current`; rates need `previous` (None on the first reading). Stages not running are left out."""
    rows = tuple(_row(spec, previous, current) for spec in stages if spec.service in current.scrapes)
    everything = current.samples()
    leaders = {
        f"{sample.label('service')}/{sample.label('account')}": scrape.service
        for scrape in current.scrapes.values()
        for sample in scrape.samples
        if sample.name == _LEADER and sample.value >= 1
    }
    return PipelineView(
        stages=rows,
        quarantined=totals_by_label(everything, _QUARANTINED, "reason"),
        dead_lettered=sum(sample.value for sample in everything if sample.name == _DLQ),
        deliveries=totals_by_label(everything, _DELIVERIES, "verdict"),
        read_model=totals_by_label(everything, _READ_MODEL, "table"),
        leaders=leaders,
    )
