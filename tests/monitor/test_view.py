"""The pipeline view is computed from two metric snapshots: rates, lag, quarantine, leaders, deliveries."""

from __future__ import annotations

from regpipe.monitor import PipelineSnapshot, ServiceScrape, build_view, parse_metrics

NORMALIZER_T0 = """
# TYPE regpipe_records_consumed_total counter
regpipe_records_consumed_total{stage="normalizer"} 100.0
# TYPE regpipe_mapped_events_total counter
regpipe_mapped_events_total{stage="normalizer",source="most",type="domain.expiring"} 300.0
regpipe_mapped_events_total{stage="normalizer",source="opensrs",type="domain.renewed"} 100.0
# TYPE regpipe_quarantined_total counter
regpipe_quarantined_total{source="most",reason="invalid_json"} 2.0
"""
NORMALIZER_T1 = NORMALIZER_T0.replace("} 100.0\n# TYPE regpipe_mapped", "} 150.0\n# TYPE regpipe_mapped").replace(
    "300.0", "450.0"
)
POLLER = """
# TYPE regpipe_leader gauge
regpipe_leader{service="opensrs-poller",account="reseller"} 1.0
regpipe_leader{service="opusdns-poller",account="demo"} 0.0
"""


def _snapshot(at: float, normalizer: str, lag: int | None) -> PipelineSnapshot:
    return PipelineSnapshot(
        taken_at=at,
        scrapes={
            "normalizer": ServiceScrape("normalizer", tuple(parse_metrics(normalizer))),
            "opensrs-poller": ServiceScrape("opensrs-poller", tuple(parse_metrics(POLLER))),
            "deduplicator": ServiceScrape("deduplicator", error="ConnectError"),
        },
        lag={"regpipe-normalizer": lag},
    )


def test_rates_are_the_counter_increase_over_the_interval() -> None:
    view = build_view(_snapshot(10.0, NORMALIZER_T0, 7), _snapshot(15.0, NORMALIZER_T1, 3))
    normalizer = next(row for row in view.stages if row.name == "normalizer")
    assert normalizer.up
    assert normalizer.total_in == 150
    assert normalizer.in_per_s == 10.0  # (150 - 100) / 5 s
    assert normalizer.out_per_s == 30.0  # (550 - 400) / 5 s
    assert normalizer.lag == 3


def test_first_reading_has_totals_but_no_rates() -> None:
    view = build_view(None, _snapshot(1.0, NORMALIZER_T0, None))
    normalizer = next(row for row in view.stages if row.name == "normalizer")
    assert normalizer.total_out == 400
    assert normalizer.in_per_s is None
    assert normalizer.lag is None


def test_a_restarted_service_does_not_show_a_negative_rate() -> None:
    view = build_view(_snapshot(0.0, NORMALIZER_T1, 0), _snapshot(10.0, NORMALIZER_T0, 0))
    normalizer = next(row for row in view.stages if row.name == "normalizer")
    assert normalizer.in_per_s == 10.0  # the counter restarted at 0 and reached 100


def test_down_services_quarantine_and_leaders_are_reported() -> None:
    view = build_view(None, _snapshot(1.0, NORMALIZER_T0, 0))
    dedup = next(row for row in view.stages if row.name == "deduplicator")
    assert not dedup.up
    assert view.quarantined == {"invalid_json": 2.0}
    assert view.leaders == {"opensrs-poller/reseller": "opensrs-poller"}
    assert "aggregator" not in {row.name for row in view.stages}  # not running: not shown
