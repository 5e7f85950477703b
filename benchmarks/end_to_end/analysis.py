"""Figures of one step from what the sender, the reader and the topics recorded (pure; no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Arrival", "StepRecord", "analyse", "percentiles"]

#: The backlog may grow by at most this many seconds of traffic over a window for the rate to count as sustained.
_GROWTH_ALLOWANCE_S = 0.5
_SETTLE_S = 10


@dataclass(frozen=True, slots=True)
class Arrival:
    """When an event became readable on the public topic, and its record timestamp there."""

    at_s: float
    events_ts_ms: int


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What the sender wrote for one step (parallel lists, one entry per webhook)."""

    rate: float
    seconds: float
    ids: Sequence[str]
    due: Sequence[float]
    sent: Sequence[float]
    acked: Sequence[float]
    status: Sequence[int]


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50, p90, p99 and max, in the unit of `values`, rounded to 0.1."""
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(ordered[-1], 1)}


def _lag_samples(step: StepRecord, arrivals: Mapping[str, Arrival]) -> list[tuple[float, int]]:
    """Events sent minus events read, once a second over the window (only this step's events count)."""
    sent = sorted(t for t in step.sent if t > 0)
    read = sorted(arrivals[i].at_s for i in step.ids if i in arrivals)
    if not sent:
        return []
    begin = sent[0]
    samples = []
    s = r = 0
    for second in range(1, int(step.seconds) + 1):
        moment = begin + second
        while s < len(sent) and sent[s] <= moment:
            s += 1
        while r < len(read) and read[r] <= moment:
            r += 1
        samples.append((float(second), s - r))
    return samples


def _slope(points: Sequence[tuple[float, int]]) -> float:
    """Least-squares slope (events per second) of the backlog over the window."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


def analyse(
    step: StepRecord,
    arrivals: Mapping[str, Arrival],
    raw_ts_ms: Mapping[str, int],
    normalized_ts_ms: Mapping[str, int],
) -> dict[str, Any]:
    """Latency end to end and per stage, the backlog over the window, and whether the rate was sustained."""
    accepted = [i for i, code in enumerate(step.status) if code == 202]
    e2e, ack, slip = [], [], []
    receiver, normalizer, deduplicator, visible = [], [], [], []
    for i in accepted:
        ident, sent = step.ids[i], step.sent[i]
        ack.append((step.acked[i] - sent) * 1000)
        slip.append((sent - step.due[i]) * 1000)
        arrival = arrivals.get(ident)
        if arrival is None:
            continue
        e2e.append((arrival.at_s - sent) * 1000)
        raw, normalized = raw_ts_ms.get(ident), normalized_ts_ms.get(ident)
        if raw is None or normalized is None:
            continue
        receiver.append(raw - sent * 1000)
        normalizer.append(float(normalized - raw))
        deduplicator.append(float(arrival.events_ts_ms - normalized))
        visible.append(arrival.at_s * 1000 - arrival.events_ts_ms)
    lag = _lag_samples(step, arrivals)
    # The backlog first fills up to rate x latency; its trend is taken after that, over the rest of the window.
    settled = lag[_SETTLE_S:]
    growth = _slope(settled) * len(settled)
    missing = len(accepted) - len(e2e)
    refused = len(step.status) - len(accepted)
    return {
        "rate": step.rate,
        "seconds": step.seconds,
        "webhooks": len(step.ids),
        "accepted": len(accepted),
        "not_accepted": refused,
        # 0: no answer (the sender's connection cap reached, or the connection failed twice).
        "statuses": {str(code): count for code, count in sorted(Counter(step.status).items())},
        "not_on_public_topic": missing,
        "latency_ms": percentiles(e2e),
        "receiver_answer_ms": percentiles(ack),
        "sender_slip_ms": percentiles(slip),
        # Where the time goes, from the Kafka record timestamps (set when each stage handed the record to its
        # producer): POST sent -> raw record, raw -> normalized, normalized -> public (in a transaction), public
        # record -> readable by a read_committed reader (the transaction's commit and the reader's fetch).
        "stages_ms": {
            "receiver": percentiles(receiver),
            "normalizer": percentiles(normalizer),
            "deduplicator": percentiles(deduplicator),
            "commit_and_read": percentiles(visible),
        },
        "lag": {
            "max": max((n for _, n in lag), default=0),
            "last": lag[-1][1] if lag else 0,
            "growth_over_window": round(growth, 1),
            "samples": [n for _, n in lag],
        },
        "sustained": refused == 0 and missing == 0 and growth < step.rate * _GROWTH_ALLOWANCE_S,
    }
