"""One markdown table per benchmark from its results JSON.

The benchmarks were written at different times and their JSON differs in shape, so rows are found by what they
hold rather than by where: any object with a rate (`records_per_s`, `events_per_s`, `per_s`, ...) is a measured
run. The receiver and the end-to-end benchmark have shapes of their own and their own tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Table", "table_for"]

_RATE_KEYS = ("records_per_s", "events_per_s", "delivery_per_s", "bare_httpx_per_s", "accepted_per_s", "per_s")
_SKIPPED = ("all_rounds", "targets", "target")


@dataclass(frozen=True, slots=True)
class Table:
    """A benchmark's section of the report."""

    title: str
    when: str
    load: str
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    notes: Sequence[str]

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", f"Measured {self.when}; 1-minute load average {self.load}.", ""]
        lines.append("| " + " | ".join(self.header) + " |")
        lines.append("|" + "---|" * len(self.header))
        lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
        if self.notes:
            lines.append("")
            lines.extend(self.notes)
        return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _when(results: dict[str, Any]) -> str:
    return str(results.get("date") or results.get("when") or results.get("measured_at") or "?")


def _load(results: dict[str, Any]) -> str:
    """`before -> after` from whichever of the shapes the benchmarks use."""
    machine = results.get("machine", {})
    pair = machine.get("load_average_1m_before_after")
    if pair:
        return f"{_fmt(pair[0])} before, {_fmt(pair[1])} after"
    before = machine.get("load_before", machine.get("load_average_before", results.get("load_before")))
    after = machine.get("load_after", results.get("load_after"))
    if isinstance(before, list):  # (1, 5, 15 minutes)
        before = before[0]
    if before is None:
        return "not recorded"
    return f"{_fmt(before)} before, {_fmt(after) if after is not None else 'not recorded'} after"


def _runs(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object below `node` that reports a rate, with where it was found."""
    if isinstance(node, dict):
        if any(isinstance(node.get(key), int | float) for key in _RATE_KEYS):
            yield path, node
            return
        for key, value in node.items():
            if key not in _SKIPPED:
                yield from _runs(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _runs(value, f"{path}[{index}]")


def _cpu_us(run: dict[str, Any]) -> Any:
    for key in ("cpu_us_per_record", "cpu_us_per_event", "client_cpu_us", "server_cpu_us_per_202"):
        if key in run:
            return run[key]
    count = run.get("records") or run.get("events") or run.get("requests")
    if run.get("cpu_seconds") and count:
        return round(run["cpu_seconds"] / count * 1e6, 1)
    return None


def _generic(name: str, results: dict[str, Any]) -> Table:
    rows = []
    for path, run in _runs(results, ""):
        rate_key = next(key for key in _RATE_KEYS if isinstance(run.get(key), int | float))
        rows.append(
            (
                str(run.get("name", path)),
                _fmt(run[rate_key]),
                rate_key,
                _fmt(_cpu_us(run)),
                _fmt(run.get("peak_rss_mib")),
            )
        )
    notes = []
    for key in ("ratio", "target_ratio", "ratio_c_to_aiokafka"):
        if key in results:
            notes.append(f"- {key.replace('_', ' ')}: **{_fmt(results[key])}**")
    latency = results.get("latency")
    if isinstance(latency, dict) and "p99_ms" in latency:
        notes.append(f"- latency: p50 {_fmt(latency.get('p50_ms'))} ms, p99 {_fmt(latency.get('p99_ms'))} ms")
    if not rows:  # a benchmark of response times rather than rates
        return Table(name, _when(results), _load(results), _LATENCY_HEADER, list(_latency_rows(results, "")), notes)
    header = ("run", "rate", "unit", "CPU us per record", "peak RSS MiB")
    return Table(name, _when(results), _load(results), header, rows, notes)


_LATENCY_HEADER = ("what", "median / p50 ms", "p95 ms", "p99 ms")


def _latency_rows(node: Any, path: str) -> Iterator[tuple[str, ...]]:
    """Every object below `node` that reports a median or p50 in ms."""
    if isinstance(node, dict):
        middle = node.get("median_ms", node.get("p50_ms"))
        if isinstance(middle, int | float):
            yield (path or "-", _fmt(middle), _fmt(node.get("p95_ms")), _fmt(node.get("p99_ms")))
        for key, value in node.items():
            if key not in _SKIPPED:
                yield from _latency_rows(value, f"{path} / {key}" if path else key)


def _receiver(results: dict[str, Any]) -> Table:
    rows = []
    for config, figures in results.get("results", {}).items():
        fixed = figures.get("at_fixed_rate", {})
        best: dict[str, Any] = max(
            figures.get("max_runs", []), key=lambda run: run.get("accepted_per_s", 0), default={}
        )
        rows.append(
            (
                config,
                _fmt(figures.get("max_accepted_per_s")),
                _fmt(best.get("server_cpu_us_per_202")),
                _fmt(fixed.get("latency_ms", {}).get("p50")),
                _fmt(fixed.get("latency_ms", {}).get("p99")),
            )
        )
    notes = [
        f"- ratio receiver / bare server, workers {w}: {_fmt(r.get('max_throughput'))}"
        for w, r in results.get("ratios", {}).items()
    ]
    header = (
        "server",
        "max accepted/s",
        "CPU us per 202 at max",
        f"p50 ms at {results.get('fixed_rate_per_s', 0):g}/s",
        "p99 ms",
    )
    return Table("webhook_receiver", _when(results), _load(results), header, rows, notes)


def _end_to_end(results: dict[str, Any]) -> Table:
    rows = []
    for kind, steps in (("latency", results.get("latency_steps", [])), ("sustain", results.get("sustain_steps", []))):
        for step in steps:
            stages = step["stages_ms"]
            cpu = step["cpu_us_per_event"]
            rows.append(
                (
                    f"{kind} {step['rate']:g}/s x {step['seconds']:g} s",
                    _fmt(step["latency_ms"]["p50"]),
                    _fmt(step["latency_ms"]["p99"]),
                    " / ".join(
                        _fmt(stages[s]["p50"]) for s in ("receiver", "normalizer", "deduplicator", "commit_and_read")
                    ),
                    f"{_fmt(step['lag']['max'])} ({_fmt(step['lag']['growth_over_window'])})",
                    "yes" if step["sustained"] else "no",
                    " / ".join(_fmt(cpu.get(s)) for s in ("webhook_receiver", "normalizer", "deduplicator", "broker")),
                    f"{step['machine_cpu_busy']:.0%}",
                    " -> ".join(_fmt(load) for load in step["load_average_1m_before_after"]),
                )
            )
    rss = results.get("peak_rss_mib", {})
    sustained = results.get("sustained_per_s")
    targets = results.get("targets", {})
    notes = [
        "- highest rate sustained for a minute without a growing backlog: "
        + (f"**{_fmt(sustained)}/s**" if sustained else "**none of the steps run**"),
        "- peak RSS: " + ", ".join(f"{name} {_fmt(mib)} MiB" for name, mib in rss.items()),
        f"- targets: p99 < {_fmt(targets.get('p99_ms_at_500'))} ms at 500/s, "
        f"< {_fmt(targets.get('p99_ms_at_1000'))} ms at 1,000/s, "
        f">= {_fmt(targets.get('sustained_per_s'))}/s sustained, "
        f"peak RSS < {_fmt(targets.get('peak_rss_mib'))} MiB a service",
    ]
    header = (
        "step",
        "p50 ms",
        "p99 ms",
        "stage p50 ms: receiver / normalizer / deduplicator / commit+read",
        "max lag (growth)",
        "sustained",
        "CPU us/event: receiver / normalizer / deduplicator / broker",
        "machine busy",
        "load",
    )
    return Table("end_to_end", _when(results), _load(results), header, rows, notes)


def table_for(name: str, results: dict[str, Any]) -> Table:
    """The table of benchmark `name` (its results file's stem)."""
    if name == "webhook_receiver":
        return _receiver(results)
    if name == "end_to_end":
        return _end_to_end(results)
    return _generic(name, results)
