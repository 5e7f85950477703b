"""What an operator reads about the running pipeline: each service's `/metrics` and consumer lag from the broker.

One source for the live terminal view and the console's pipeline page, so both show the same numbers. The
numbers are computed by pure functions (`view.build_view`) from two snapshots; only `collect` does I/O.
"""

from regpipe.monitor.collect import MonitorTarget, collect_snapshot
from regpipe.monitor.lag import consumer_lag
from regpipe.monitor.scrape import Sample, parse_metrics
from regpipe.monitor.snapshot import PipelineSnapshot, ServiceScrape
from regpipe.monitor.stages import STAGES, Series, StageSpec
from regpipe.monitor.view import PipelineView, StageRow, build_view

__all__ = [
    "STAGES",
    "MonitorTarget",
    "PipelineSnapshot",
    "PipelineView",
    "Sample",
    "Series",
    "ServiceScrape",
    "StageRow",
    "StageSpec",
    "build_view",
    "collect_snapshot",
    "consumer_lag",
    "parse_metrics",
]
