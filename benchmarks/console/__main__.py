"""Run the console benchmark: `python -m benchmarks.console [--domains 100000] [--events 10000] [--attempts 1000000]`.

Starts a throwaway PostgreSQL with the project's stack and fills the read model and the delivery tables with COPY:
`--domains` domain states, one domain with `--events` timeline events, order batches with their orders, tasks,
transfers and tracked orders, 20 subscriptions and `--attempts` delivery attempts (with their jobs and events).
Then it serves the read API, the delivery admin API and the console (in this one process, on 127.0.0.1), signs in
as an operator and times every list page, first page and a later page (by cursor), `--repeat` times each after
one warm-up request: the render time a browser waits for, the console's calls to both APIs included.

Results go to benchmarks/results/console.json and console.md (target: the first page of a list in < 300 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import platform
import re
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from pydantic import SecretStr

from regpipe.aggregate.api import create_read_api
from regpipe.aggregate.store import apply_events
from regpipe.console import ConsoleConfig, create_console_app
from regpipe.console.delivery_admin import DeliveryAdminClient
from regpipe.console.http_source import HttpSource
from regpipe.console.quarantine import QuarantineReader
from regpipe.console.read_model import ReadModelClient
from regpipe.console.sources import PipelineSource, Sources
from regpipe.contract import EventType, Source
from regpipe.delivery.address_guard import AddressGuard, SystemResolver
from regpipe.delivery.admin_api import create_admin_app
from regpipe.monitor import MonitorTarget
from regpipe.pg.migrate import apply_migrations
from regpipe.runtime import serve_app
from regpipe.stack.postgres import PostgresServer
from tests.aggregate.events import batch_event, domain_event

_RESULTS = Path(__file__).resolve().parent.parent / "results"
_TOKEN = "bench-token"  # noqa: S105  # the throwaway tokens of the benchmark's own services
_OPERATOR = "bench-operator-token"
_BIG = "big-timeline.example"
_SUBSCRIPTIONS = 20
_TARGET_MS = 300.0
_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _say(text: str) -> None:
    print(f"[bench console] {text}", flush=True)


async def _templates(pool: asyncpg.Pool) -> tuple[str, str]:
    """Real folded states (a domain, a batch) to copy: every row the pages parse is a valid state."""
    await apply_events(
        pool,
        [
            domain_event("tpl", Source.OPENSRS, EventType.DOMAIN_REGISTERED, "template.example", minute=1),
            batch_event(
                "tplb", EventType.ORDER_BATCH_REGISTERED, "TPL-BATCH", [("TPL-O", "o.example", "REGISTERED")], minute=1
            ),
        ],
        now=_T0,
    )
    domain = await pool.fetchval("SELECT state::text FROM agg_domains WHERE name = 'template.example'")
    batch = await pool.fetchval("SELECT state::text FROM agg_order_batches WHERE batch_id = 'TPL-BATCH'")
    await pool.execute("TRUNCATE agg_domains, agg_order_batches, agg_orders, agg_timeline, agg_applied_events")
    return domain, batch


async def _fill_read_model(pool: asyncpg.Pool, domains: int, events: int) -> dict[str, int]:
    domain_state, batch_state = await _templates(pool)
    async with pool.acquire() as conn:
        names = [f"d{i:06d}.example" for i in range(domains - 1)] + [_BIG]
        await conn.copy_records_to_table(
            "agg_domains",
            columns=["provider", "account", "name", "status", "expires_at", "last_event_time", "state"],
            records=(
                ("opensrs", "", name, "registered", _T0 + timedelta(days=365 + i % 300), _T0,
                 domain_state.replace("template.example", name))
                for i, name in enumerate(names)
            ),
        )  # fmt: skip
        data = orjson.dumps({"domain": _BIG, "nameservers": ["ns1.example", "ns2.example"]}).decode()
        await conn.copy_records_to_table(
            "agg_timeline",
            columns=["domain", "event_id", "event_time", "provider", "type", "outcome", "transport", "data"],
            records=(
                (_BIG, uuid.uuid4(), _T0 + timedelta(minutes=i), "opensrs", "domain.nameservers_updated", "success",
                 "poll", data)
                for i in range(events)
            ),
        )  # fmt: skip
        batches = max(1, domains // 10)
        await conn.copy_records_to_table(
            "agg_order_batches",
            columns=["provider", "batch_id", "status", "order_count", "updated_at", "state"],
            records=(
                ("most", f"B{i:06d}", "registered", 1, _T0 + timedelta(seconds=i),
                 batch_state.replace("TPL-BATCH", f"B{i:06d}"))
                for i in range(batches)
            ),
        )  # fmt: skip
        await conn.copy_records_to_table(
            "agg_orders",
            columns=["provider", "order_id", "batch_id", "domain", "status", "status_time"],
            records=(
                ("most", f"MO{i:07d}", f"B{i % batches:06d}", names[i % len(names)],
                 "COMPLETED" if i % 3 else "REGISTERED", _T0 + timedelta(seconds=i))
                for i in range(domains)
            ),
        )  # fmt: skip
        await conn.copy_records_to_table(
            "agg_operations",
            columns=["kind", "provider", "op_id", "domain", "status", "terminal", "status_time", "state"],
            records=(
                ("transfer" if i % 2 else "order", "opensrs", f"OP{i:07d}", names[i % len(names)],
                 "completed" if i % 4 else "pending", i % 4 != 0, _T0 + timedelta(seconds=i), "{}")
                for i in range(domains)
            ),
        )  # fmt: skip
        await conn.copy_records_to_table(
            "agg_tasks",
            columns=["provider", "task_id", "task_type", "status", "succeeded_count", "updated_at", "state"],
            records=(
                ("most", f"T{i:06d}", "domain.renew", "COMPLETED", 10, _T0 + timedelta(seconds=i), "{}")
                for i in range(batches)
            ),
        )  # fmt: skip
        await conn.execute("ANALYZE")
    return {"domains": domains, "timeline_events": events, "batches": batches, "orders": domains * 3 // 2,
            "tasks": batches, "transfers": domains // 2}  # fmt: skip


async def _fill_deliveries(pool: asyncpg.Pool, attempts: int) -> tuple[list[uuid.UUID], uuid.UUID]:
    subscriptions = [uuid.uuid4() for _ in range(_SUBSCRIPTIONS)]
    events = max(1, attempts // 10)
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "delivery_subscriptions",
            columns=["id", "url", "description"],
            records=[(sid, f"https://hooks{i}.example/registrar", f"team {i}") for i, sid in enumerate(subscriptions)],
        )
        await conn.copy_records_to_table(
            "delivery_endpoint_health", columns=["subscription_id", "last_success_at"],
            records=[(sid, _T0) for sid in subscriptions],
        )  # fmt: skip
        event_ids = [uuid.uuid4() for _ in range(events)]
        body = orjson.dumps({"specversion": "1.0", "type": "domain.expiring", "data": {"domain": "x.example"}})
        await conn.copy_records_to_table(
            "delivery_events",
            columns=["event_id", "event_type", "source", "subject", "partition_key", "event_time", "body"],
            records=(
                (
                    eid,
                    "domain.expiring",
                    "most",
                    f"d{i:06d}.example",
                    f"d{i:06d}.example",
                    _T0 + timedelta(seconds=i),
                    body,
                )
                for i, eid in enumerate(event_ids)
            ),
        )
        # One job per (event, subscription of a tenth of them): attempts spread 10 per job.
        jobs = max(1, attempts // 10)
        await conn.copy_records_to_table(
            "delivery_jobs",
            columns=["id", "subscription_id", "event_id", "partition_key", "state", "attempts", "last_status"],
            records=(
                (j + 1, subscriptions[j % _SUBSCRIPTIONS], event_ids[j % events], "k",
                 "dead" if j % 50 == 0 else "delivered", 10, 500 if j % 50 == 0 else 200)
                for j in range(jobs)
            ),
        )  # fmt: skip
        await conn.copy_records_to_table(
            "delivery_attempts",
            columns=["job_id", "subscription_id", "event_id", "attempted_at", "outcome", "status_code", "latency_ms",
                     "error", "response_body"],
            records=(
                (a % jobs + 1, subscriptions[(a % jobs) % _SUBSCRIPTIONS], event_ids[(a % jobs) % events],
                 _T0 + timedelta(milliseconds=a), "delivered" if a % 7 else "retry", 200 if a % 7 else 503,
                 12.5, None if a % 7 else "HTTP 503", "ok")
                for a in range(attempts)
            ),
        )  # fmt: skip
        await conn.execute("SELECT setval('delivery_jobs_id_seq', $1)", jobs)
        await conn.execute("ANALYZE")
    return subscriptions, event_ids[0]


@asynccontextmanager
async def _console(dsn: str) -> AsyncIterator[str]:
    pool = await asyncpg.create_pool(dsn, min_size=4, max_size=10)
    read_api = create_read_api(service="aggregator", pool=lambda: pool, tokens=[_TOKEN], ready=lambda: None)
    guard = AddressGuard.with_allow_list(SystemResolver(), [])
    admin = create_admin_app(pool, guard, SecretStr(_TOKEN), lambda: None)
    try:
        async with serve_app(read_api) as read_port, serve_app(admin) as admin_port, httpx.AsyncClient() as metrics:
            sources = Sources(
                pipeline=PipelineSource(MonitorTarget({}, None), metrics),
                read_model=ReadModelClient(HttpSource("read API", f"http://127.0.0.1:{read_port}", _TOKEN)),
                delivery=DeliveryAdminClient(HttpSource("admin API", f"http://127.0.0.1:{admin_port}", _TOKEN)),
                quarantine=QuarantineReader("127.0.0.1:9"),  # the pipeline page is not measured (no broker)
            )
            app = create_console_app(ConsoleConfig("b" * 32, (), (_OPERATOR,), secure_cookies=False), sources)
            async with serve_app(app) as port:
                yield f"http://127.0.0.1:{port}"
    finally:
        await pool.close()


async def _signed_in(base: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    page = await client.get("/signin")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, "no CSRF token on the sign-in page"
    answer = await client.post("/signin", data={"token": _OPERATOR, "csrf": html.unescape(match.group(1))})
    assert answer.status_code == 303, answer.text
    return client


def _next_link(text: str) -> str | None:
    match = re.search(r'<p class="pager"><a href="([^"]+)"', text)
    return html.unescape(match.group(1)) if match else None


async def _time(client: httpx.AsyncClient, path: str, repeat: int) -> dict[str, Any]:
    first = await client.get(path)  # warm-up (connections, prepared statements)
    assert first.status_code == 200, (path, first.status_code, first.text[:500])
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = await client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, path
    ordered = sorted(samples)
    return {
        "path": path,
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)], 1),
        "bytes": len(first.content),
        "next": _next_link(first.text),
    }


async def main(args: argparse.Namespace) -> None:
    load_before = os.getloadavg()[0]
    server = PostgresServer()
    await server.astart()
    try:
        dsn = server.dsn
        await apply_migrations(dsn)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        started = time.monotonic()
        volumes = await _fill_read_model(pool, args.domains, args.events)
        subscriptions, event_id = await _fill_deliveries(pool, args.attempts)
        volumes["attempts"] = args.attempts
        volumes["subscriptions"] = _SUBSCRIPTIONS
        fill_s = time.monotonic() - started
        await pool.close()
        _say(f"filled in {fill_s:.0f} s: {volumes}")
        pages = {
            "domain search (prefix)": "/domains?q=d0123",
            "domain page (timeline of 10,000 events)": f"/domains/{_BIG}",
            "order batches": "/order-batches",
            "order batches (provider filter)": "/order-batches?provider=most",
            "orders": "/orders",
            "orders (status filter)": "/orders?status=REGISTERED",
            "tasks": "/tasks",
            "transfers": "/transfers",
            "transfers (time filter)": "/transfers?since=2026-01-01T10:00&until=2026-01-01T12:00",
            "batch page": "/order-batches/B000042",
            "deliveries (20 endpoints with health, DLQ)": "/deliveries",
            "endpoint (attempts)": f"/deliveries/endpoints/{subscriptions[0]}",
            "event (attempts, body)": f"/deliveries/events/{event_id}",
        }
        results: dict[str, Any] = {}
        async with _console(dsn) as base:
            client = await _signed_in(base)
            try:
                for name, path in pages.items():
                    figure = await _time(client, path, args.repeat)
                    later = figure.pop("next")
                    if later:
                        figure["later_page"] = await _time(client, later, args.repeat)
                        figure["later_page"].pop("next")
                    results[name] = figure
                    _say(f"{name}: median {figure['median_ms']} ms, p95 {figure['p95_ms']} ms")
            finally:
                await client.aclose()
    finally:
        await server.astop()
    report = {
        "benchmark": "console",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
        },
        "volumes": volumes,
        "fill_seconds": round(fill_s, 1),
        "repeat": args.repeat,
        "target_first_page_ms": _TARGET_MS,
        "pages": results,
    }
    _RESULTS.mkdir(exist_ok=True)
    (_RESULTS / "console.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    (_RESULTS / "console.md").write_text(_markdown(report))


def _markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        "# Console benchmark",
        "",
        f"{report['when']}: {machine['cpus']} CPUs shared with PostgreSQL and the other work of the machine (1-minute "
        f"load average {machine['load_before']} before, {machine['load_after']} after), Python {machine['python']}.",
        "",
        f"Volumes (filled with COPY in {report['fill_seconds']} s): "
        + ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in report["volumes"].items())
        + ".",
        "",
        "Read API, delivery admin API and console served by one process on 127.0.0.1; each figure is the time to the "
        f"whole HTML page over HTTP, {report['repeat']} requests after one warm-up. Target: first page < "
        f"{report['target_first_page_ms']:.0f} ms.",
        "",
        "| page | first page median | p95 | later page (cursor) median | p95 |",
        "|---|---|---|---|---|",
    ]
    for name, figure in report["pages"].items():
        later = figure.get("later_page")
        mark = "" if figure["median_ms"] < report["target_first_page_ms"] else " (over target)"
        lines.append(
            f"| {name} | {figure['median_ms']} ms{mark} | {figure['p95_ms']} ms | "
            + (f"{later['median_ms']} ms | {later['p95_ms']} ms |" if later else "- | - |")
        )
    return "\n".join(lines) + "\n"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domains", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(_parse()))
