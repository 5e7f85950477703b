"""The local demo: the real stack, the provider world and every service, with the public stream printed live.

Starts Kafka, PostgreSQL and Dovecot (`regpipe.stack`), creates the topics, serves the provider simulators in this
process, runs each service as its own process (the way they run in production), and prints every canonical event
that reaches `registrar.events.v1`. Stops everything cleanly on Ctrl+C or after `duration_s`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import signal
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console

from regpipe.demo.catalog import DEMO_AUTHSERV_ID, DemoSecrets, DemoService, WorldUrls, build_catalog
from regpipe.demo.live import LiveView
from regpipe.demo.printer import FlowCounts, watch_topics
from regpipe.demo.processes import ServiceProcess
from regpipe.demo.subscriber import DemoSubscriber, serve_demo_subscriber, subscribe_to_everything
from regpipe.kafka.admin import ensure_topics
from regpipe.monitor import MonitorTarget
from regpipe.simulators.opensrs.mail import MailboxTarget
from regpipe.simulators.world import WorldConfig, WorldEndpoints, run_world
from regpipe.stack.ports import free_port
from regpipe.stack.stack import LocalStack

__all__ = ["DemoOptions", "run_demo"]

_SOURCES = ("most", "coldmail", "opensrs", "opusdns")
_RECENT_EVENTS = 12


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """How long and how busy the demo is, which services run, and how it shows them."""

    state_dir: Path
    duration_s: float = 0.0  # 0: until Ctrl+C
    tick_s: float = 5.0
    per_tick: int = 2
    require_all_sources: bool = False  # exit 1 unless every provider's events reached the public topic
    only: frozenset[str] | None = None  # run only these services (None: every one)
    plain: bool | None = None  # None: the live screen on a terminal, a plain summary elsewhere


def _say(text: str) -> None:
    print(f"==> {text}", flush=True)


def _secrets() -> DemoSecrets:
    return DemoSecrets(
        most="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        coldmail=secrets.token_urlsafe(24),
        opensrs=secrets.token_hex(16),
        opusdns="opk_" + secrets.token_hex(16),
        seal_ring="demo1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        delivery_admin=secrets.token_urlsafe(24),
        aggregator_api=secrets.token_urlsafe(24),
    )


async def _wait_ready(service: DemoService, timeout_s: float = 60) -> None:
    """Wait until the service says it is ready; one that does not in time is reported, and the demo goes on
    (the live view then shows what it lacks)."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(service.health_url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    _say(f"{service.name} is not ready after {timeout_s:.0f} s; see its log")


async def run_demo(options: DemoOptions) -> int:
    """Run the demo; returns the process exit code."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGHUP too: closing the terminal must stop the servers and services, not orphan them.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    _say(f"starting Kafka, PostgreSQL and Dovecot IMAP (state in {options.state_dir})")
    stack = LocalStack(options.state_dir, reset=True)
    endpoints = await stack.astart()
    services: list[ServiceProcess] = []
    counts = FlowCounts()
    world_task: asyncio.Task[WorldEndpoints] | None = None
    world_stop = asyncio.Event()
    subscriber_scope = contextlib.AsyncExitStack()
    subscriber: DemoSubscriber | None = None
    try:
        bootstrap = endpoints.kafka_bootstrap_servers or ""
        report = await ensure_topics(bootstrap)
        _say(f"Kafka {bootstrap}: topics created {report.created}")
        demo_secrets = _secrets()
        receiver_port = free_port()
        imap = endpoints.imap
        ready = asyncio.Event()
        world_endpoints = WorldEndpoints()

        def world_ready(world: WorldEndpoints) -> None:
            world_endpoints.opensrs_url, world_endpoints.opusdns_url = world.opensrs_url, world.opusdns_url
            ready.set()

        world_config = WorldConfig(
            receiver_url=f"http://127.0.0.1:{receiver_port}",
            most_secret=demo_secrets.most,
            coldmail_token=demo_secrets.coldmail,
            coldmail_token_header="x-webhook-token",  # noqa: S106 - a header name
            opensrs_user="reseller",
            opensrs_key=demo_secrets.opensrs,
            opusdns_api_key=demo_secrets.opusdns,
            imap=MailboxTarget(imap.host, imap.port, imap.username, imap.password, authserv_id=DEMO_AUTHSERV_ID)
            if imap
            else None,
            tick_s=options.tick_s,
            per_tick=options.per_tick,
        )
        logs = options.state_dir / "logs"
        # The API simulators listen before the pollers start; webhooks sent before the receiver is up are
        # retried on the providers' (scaled) schedules, as real providers would.
        world_task = asyncio.create_task(run_world(world_config, world_stop, world_ready))
        await asyncio.wait_for(ready.wait(), timeout=30)
        catalog = build_catalog(
            endpoints,
            WorldUrls(world_endpoints.opensrs_url, world_endpoints.opusdns_url),
            demo_secrets,
            receiver_port,
        )
        chosen = [entry for entry in catalog if options.only is None or entry.name in options.only]
        services = [ServiceProcess(entry.name, entry.module, entry.env, logs) for entry in chosen]
        _say(f"starting {', '.join(entry.name for entry in chosen)} (logs in {logs})")
        for service in services:
            service.start()
        await asyncio.gather(*(_wait_ready(entry) for entry in chosen))
        _announce(chosen)
        delivery = next((entry for entry in chosen if entry.name == "delivery"), None)
        if delivery is not None:
            subscriber = await subscriber_scope.enter_async_context(serve_demo_subscriber())
            await subscribe_to_everything(
                delivery.health_url.removesuffix("/readyz"), demo_secrets.delivery_admin, subscriber
            )
            token_file = options.state_dir / "delivery-admin-token"
            token_file.write_text(demo_secrets.delivery_admin)
            token_file.chmod(0o600)
            _say(f"delivery: subscriber {subscriber.url} receives every event (admin API token in {token_file})")
        if any(entry.name == "aggregator" for entry in chosen):
            token_file = options.state_dir / "aggregator-api-token"
            token_file.write_text(demo_secrets.aggregator_api)
            token_file.chmod(0o600)
            _say(f"aggregator: read API bearer token in {token_file}")
        await _show(options, bootstrap, chosen, counts, stop)
    finally:
        stop.set()
        world_stop.set()
        if world_task is not None:
            try:
                await asyncio.wait_for(world_task, timeout=30)
            except (TimeoutError, asyncio.CancelledError):
                world_task.cancel()
        _say("stopping the services and the stack")
        await subscriber_scope.aclose()
        for service in reversed(services):
            code = service.stop()
            if code not in (0, None, -signal.SIGTERM):
                print(f"   {service.name} exited with {code}; log: {service.log_path}", flush=True)
        await asyncio.to_thread(stack.stop)
    print(counts.summary(), flush=True)
    if subscriber is not None:
        print(
            f"subscriber: {subscriber.received} requests, {len(subscriber.ids)} distinct events accepted "
            f"(every tenth answered 503 to show retries), {subscriber.refused} refused signatures",
            flush=True,
        )
    missing = [s for s in _SOURCES if not any(route.startswith(f"{s}/") for route in counts.per_route)]
    if options.require_all_sources and (missing or counts.doubled):
        print(f"missing sources: {missing}; doubled ids: {counts.doubled}", flush=True)
        return 1
    return 0


def _announce(services: list[DemoService]) -> None:
    _say("provider world running: Most and Cold Mail webhooks, OpenSRS poll + e-mail, OpusDNS poll")
    for entry in services:
        for label, value in entry.extra.items():
            _say(f"{entry.name}: {label} {value}")


async def _show(
    options: DemoOptions, bootstrap: str, services: list[DemoService], counts: FlowCounts, stop: asyncio.Event
) -> None:
    """Until `stop` (or the duration): the live view, fed by the services' metrics and the public topic."""
    console = Console()
    plain = (not console.is_terminal) if options.plain is None else options.plain
    recent: deque[str] = deque(maxlen=_RECENT_EVENTS)

    def on_line(line: str) -> None:
        recent.append(line)
        if plain:  # a scrolling log of the public stream between the summaries
            print(line, flush=True)

    if plain:
        _say("canonical events on registrar.events.v1 (time, source, transport, type, outcome, subject, id):")
    target = MonitorTarget(
        {entry.name: entry.metrics_url for entry in services},
        bootstrap,
        ("regpipe-normalizer", "regpipe-deduplicator", "regpipe-aggregator", "regpipe-delivery"),
    )
    tasks = [
        asyncio.create_task(watch_topics(bootstrap, stop, on_line, counts)),
        asyncio.create_task(LiveView(target, counts, recent, console, plain=plain).run(stop)),
    ]
    try:
        if options.duration_s:
            try:
                await asyncio.wait_for(stop.wait(), timeout=options.duration_s)
            except TimeoutError:
                stop.set()
        else:
            await stop.wait()
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def demo_state_dir() -> Path:
    """Where the demo keeps its servers' data and the services' logs."""
    return Path(os.environ.get("REGPIPE_DEMO_DIR", ".stack/demo"))
