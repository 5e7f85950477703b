"""The live view renders the monitor's reading: a terminal screen and a plain summary for pipes."""

from __future__ import annotations

import io

from rich.console import Console

from regpipe.demo.live import plain_summary, render_view
from regpipe.demo.printer import FlowCounts
from regpipe.monitor import PipelineView, StageRow

VIEW = PipelineView(
    stages=(
        StageRow("normalizer", True, 120, 480, 10.0, 40.0, 3),
        StageRow("deduplicator", False, None, None, None, None, None),
    ),
    quarantined={"invalid_json": 2},
    dead_lettered=1,
    deliveries={"delivered": 7, "failed": 1},
    read_model={"domains": 5},
    leaders={"opensrs-poller/reseller": "opensrs-poller"},
)


def _counts() -> FlowCounts:
    counts = FlowCounts()
    counts.ids.update({"a", "b"})
    return counts


def test_terminal_screen_shows_every_panel() -> None:
    out = io.StringIO()
    console = Console(file=out, width=140, force_terminal=False, color_system=None)
    console.print(render_view(VIEW, _counts(), ["2026-12-03 10:00:00  most  webhook  domain.expiring  ..."]))
    screen = out.getvalue()
    for expected in (
        "normalizer",
        "40.0",
        "down",
        "invalid_json=2",
        "delivered=7",
        "domains=5",
        "opensrs-poller/reseller",
        "2 distinct ids, 0 published twice",
        "domain.expiring",
    ):
        assert expected in screen, expected


def test_plain_summary_names_each_stage_and_its_lag() -> None:
    summary = plain_summary(VIEW, _counts())
    assert "normalizer: up in=120 out=480 out/s=40.0 lag=3" in summary
    assert "deduplicator: DOWN" in summary
    assert "dead-lettered: 1" in summary
