"""The Grafana dashboard and the Prometheus alert rules only use metrics that exist: every expression parses as
PromQL, every metric name is exported by a running service's `/metrics` (or by the Kafka exporter, for consumer
lag), and every label a selector or a `by` clause names is a label of that metric."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from regpipe.kafka import ensure_topics
from regpipe.stack.ports import free_port
from tests.kafka_io import unique
from tests.service_process import ServiceUnderTest

_ROOT = Path(__file__).resolve().parents[2]
_DASHBOARD = _ROOT / "deploy" / "grafana" / "regpipe-pipeline.json"
_ALERTS = _ROOT / "deploy" / "prometheus" / "alerts.yaml"
# Consumer lag is read from the broker by the Kafka exporter (Strimzi's `kafkaExporter`, or kafka_exporter), which
# exports it with these labels; no regpipe service measures it.
_KAFKA_EXPORTER: dict[str, set[str]] = {"kafka_consumergroup_lag": {"consumergroup", "topic", "partition"}}
# Grafana's interval variables, replaced by a duration before parsing.
_GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
# Labels Prometheus adds to every series it scrapes.
_TARGET_LABELS = {"job", "instance", "le", "quantile"}


def _dashboard_expressions() -> list[str]:
    dashboard: dict[str, Any] = orjson.loads(_DASHBOARD.read_bytes())
    expressions = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = str(target["expr"])
            for variable, value in _GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            expressions.append(expr)
    return expressions


def _alert_expressions() -> list[str]:
    rules: dict[str, Any] = yaml.safe_load(_ALERTS.read_text())
    return [str(rule["expr"]) for group in rules["groups"] for rule in group["rules"]]


def _walk(node: Any) -> Iterator[Any]:
    """Every node of a parsed PromQL expression."""
    yield node
    for attribute in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from _walk(child)
    for arg in getattr(node, "args", None) or []:
        yield from _walk(arg)


def _used(expressions: list[str]) -> dict[str, set[str]]:
    """Metric name -> the label names the expressions match on or group by, for that metric."""
    used: dict[str, set[str]] = {}
    for expression in expressions:
        tree = promql_parser.parse(expression)
        grouped: set[str] = set()
        for node in _walk(tree):
            modifier = getattr(node, "modifier", None)
            labels = getattr(modifier, "labels", None)
            if isinstance(node, promql_parser.AggregateExpr) and labels:
                grouped.update(labels)
        for node in _walk(tree):
            if isinstance(node, promql_parser.VectorSelector) and node.name:
                matched = {m.name for m in node.matchers.matchers if m.name != "__name__"}
                used.setdefault(node.name, set()).update(matched)
        # A `by` label must belong to the metrics aggregated; charged to every metric of the expression.
        for name in {n.name for n in _walk(tree) if isinstance(n, promql_parser.VectorSelector) and n.name}:
            used[name].update(grouped)
    return used


def _family(sample_name: str, exported: dict[str, str]) -> str | None:
    """The family a sample name belongs to (`x_bucket` -> `x` for a histogram, `x_total` -> `x` for a counter)."""
    if sample_name in exported:
        return sample_name
    for suffix in ("_total", "_bucket", "_sum", "_count", "_created"):
        base = sample_name.removesuffix(suffix)
        if base != sample_name and base in exported:
            return base
    return None


def _registered_labels() -> dict[str, set[str]]:
    """Label names of every metric in this process's registry (regpipe.observability.metrics is imported by the
    services the test started too; prometheus_client keeps label names on the metric objects only)."""
    import regpipe.observability.metrics as metrics  # noqa: F401  # registers every regpipe metric

    labels: dict[str, set[str]] = {}
    for collector in list(REGISTRY._collector_to_names):  # no public listing of collectors
        names = getattr(collector, "_labelnames", None)
        name = getattr(collector, "_name", None)
        if isinstance(name, str) and names is not None:
            labels[name] = set(names)
    return labels


async def _scrape_when_up(url: str, service: ServiceUnderTest, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            try:
                response = await client.get(url)
                if response.status_code == 200:
                    return response.text
            except httpx.TransportError:
                pass  # not listening yet
            assert service.returncode is None, service.log
            assert time.monotonic() < deadline, f"{url} not served within {timeout_s} s: {service.log}"
            await asyncio.sleep(0.2)


def test_every_expression_is_valid_promql() -> None:
    expressions = _dashboard_expressions() + _alert_expressions()
    assert len(expressions) > 20
    for expression in expressions:
        promql_parser.parse(expression)  # raises on a syntax error


@pytest.mark.integration
async def test_every_metric_used_is_exported_by_a_running_service(kafka_bootstrap: str, tmp_path: Path) -> None:
    await ensure_topics(kafka_bootstrap)
    exported: dict[str, str] = {}
    # Two stages as production runs them, each scraped on its own health port.
    for name, env in {
        "normalizer": {"NORMALIZER_GROUP_ID": unique("metrics-normalizer")},
        "deduplicator": {"DEDUP_GROUP_ID": unique("metrics-dedup")},
    }.items():
        port = free_port()
        log_dir = tmp_path / name
        log_dir.mkdir()
        service = ServiceUnderTest(
            name, {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "HEALTH_PORT": str(port), **env}, log_dir
        )
        with service:
            text = await _scrape_when_up(f"http://127.0.0.1:{port}/metrics", service)
        for scraped in text_string_to_metric_families(text):
            exported[scraped.name] = scraped.type

    used = _used(_dashboard_expressions() + _alert_expressions())
    labels = _registered_labels()
    for metric, label_names in sorted(used.items()):
        if metric in _KAFKA_EXPORTER:
            assert label_names <= _KAFKA_EXPORTER[metric], (metric, label_names)
            continue
        family = _family(metric, exported)
        assert family is not None, f"{metric} is used by the dashboard or the alerts but no service exports it"
        unknown = label_names - labels.get(family, set()) - _TARGET_LABELS
        assert not unknown, f"{metric} has no label {sorted(unknown)}"
    assert len(used) >= 25  # the check really covers the dashboard and the rules
