"""The latency-against-rate plot of the end-to-end benchmark: p50 and p99 per rate, the targets, and where the
time goes per stage, so the shape reads at a glance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # the backend is chosen before pyplot loads

__all__ = ["latency_plot"]

_STAGES = {
    "receiver": "receiver (POST -> raw record)",
    "normalizer": "normalizer (raw -> normalized record)",
    "deduplicator": "deduplicator (normalized -> public record)",
    "commit_and_read": "transaction commit + reader fetch",
}


def latency_plot(results: dict[str, Any], target: Path) -> None:
    """Write the PNG of `results` (end_to_end.json) to `target`."""
    series = {"steps": results["latency_steps"], "sustain steps, 60 s": results["sustain_steps"]}
    steps = [*results["latency_steps"], *results["sustain_steps"]]
    figure, (latency, stages) = plt.subplots(1, 2, figsize=(12, 4.8), dpi=110)
    for name, group in series.items():
        for key, style in (("p50", "o"), ("p99", "s")):
            points = [(step["rate"], step["latency_ms"][key]) for step in group if step["latency_ms"][key] is not None]
            line = "-" if name == "steps" else "--"
            latency.plot([r for r, _ in points], [v for _, v in points], style + line, label=f"{key}, {name}")
    unsustained = [step for step in steps if not step["sustained"]]
    if unsustained:
        latency.scatter(
            [step["rate"] for step in unsustained],
            [step["latency_ms"]["p99"] for step in unsustained],
            s=160,
            facecolors="none",
            edgecolors="red",
            label="not sustained (unanswered or backlog grew)",
        )
    targets = results.get("targets", {})
    latency.scatter(
        [500, 1000],
        [targets.get("p99_ms_at_500", 100), targets.get("p99_ms_at_1000", 250)],
        marker="_",
        s=400,
        color="black",
        label="p99 target",
    )
    latency.axvline(targets.get("sustained_per_s", 2500), color="grey", linestyle=":", label="sustained target")
    latency.set_yscale("log")
    latency.set_xlabel("webhooks per second (open loop)")
    latency.set_ylabel("POST -> readable on registrar.events.v1, ms")
    latency.set_title("End-to-end latency against rate")
    latency.grid(True, which="both", alpha=0.3)
    latency.legend(fontsize=8)

    labels = [f"{step['rate']:g}/s\n{step['seconds']:g} s" for step in steps]
    positions = range(len(steps))
    bottom = [0.0] * len(steps)
    for stage in _STAGES:
        values = [float(step["stages_ms"][stage]["p50"] or 0.0) for step in steps]
        stages.bar(positions, values, bottom=bottom, label=_STAGES[stage])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    stages.set_xticks(list(positions), labels)
    stages.set_xlabel("step, in the order run")
    stages.set_ylabel("p50 per stage, ms (from Kafka record timestamps)")
    stages.set_title("Where an event waits (p50 per stage)")
    stages.set_ylim(top=max(bottom, default=1.0) * 1.5)  # room for the legend above the bars
    stages.legend(fontsize=8, loc="upper left")
    machine = results["machine"]
    load = machine["load_average_1m_before_after"]
    figure.suptitle(
        f"{results['date']}, {machine['cpus']} CPUs shared by broker, services, sender and reader; "
        f"load average {load[0]} before, {load[1]} after",
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(target)
    plt.close(figure)
