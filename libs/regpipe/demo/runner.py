"""The local demo: the real stack, the provider world and every service, with the public stream printed live.

Starts Kafka, PostgreSQL and Dovecot (`regpipe.stack`), creates the topics, serves the provider simulators in this
process, runs each service as its own process (the way they run in production), and prints every canonical event
that reaches `registrar.events.v1`. Stops everything cleanly on Ctrl+C or after `duration_s`.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from regpipe.demo.printer import FlowCounts, watch_topics
from regpipe.demo.processes import ServiceProcess
from regpipe.kafka.admin import ensure_topics
from regpipe.simulators.opensrs.mail import MailboxTarget
from regpipe.simulators.world import WorldConfig, WorldEndpoints, run_world
from regpipe.stack.stack import LocalStack, StackEndpoints

__all__ = ["DemoOptions", "run_demo"]

_SOURCES = ("most", "coldmail", "opensrs", "opusdns")


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """How long and how busy the demo is."""

    state_dir: Path
    duration_s: float = 0.0  # 0: until Ctrl+C
    tick_s: float = 5.0
    per_tick: int = 2
    require_all_sources: bool = False  # exit 1 unless every provider's events reached the public topic


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _say(text: str) -> None:
    print(f"==> {text}", flush=True)


def _services(
    endpoints: StackEndpoints, world: WorldEndpoints, secrets_: dict[str, str], port: int, logs: Path
) -> list[ServiceProcess]:
    bootstrap = endpoints.kafka_bootstrap_servers or ""
    dsn = endpoints.postgres_dsn or ""
    imap = endpoints.imap
    common = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "LOG_LEVEL": "INFO", "HEALTH_HOST": "127.0.0.1"}
    seal = {"RAW_SEAL_KEYS": secrets_["seal_ring"], "RAW_SEAL_ACTIVE_KEY": "demo1"}
    services = [
        ("webhook-receiver", "webhook_receiver", {
            "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port),
            "MOST_AUTH_SCHEME": "standard_webhooks", "MOST_WEBHOOK_SECRETS": secrets_["most"],
            "COLDMAIL_AUTH_SCHEME": "header_token", "COLDMAIL_WEBHOOK_SECRETS": secrets_["coldmail"],
            "COLDMAIL_TOKEN_HEADER": "x-webhook-token", **seal,
        }),
        ("normalizer", "normalizer", {"HEALTH_PORT": str(_free_port()), **seal}),
        ("deduplicator", "deduplicator", {"HEALTH_PORT": str(_free_port())}),
        ("opensrs-poller", "opensrs_poller", {
            "HEALTH_PORT": str(_free_port()), "OPENSRS_URL": world.opensrs_url, "OPENSRS_USERNAME": "reseller",
            "OPENSRS_API_KEY": secrets_["opensrs"], "OPENSRS_POLL_LIMIT": "10", "OPENSRS_POLL_INTERVAL_S": "2",
            "POSTGRES_DSN": dsn, **seal,
        }),
        ("opusdns-poller", "opusdns_poller", {
            "HEALTH_PORT": str(_free_port()), "OPUSDNS_BASE_URL": world.opusdns_url, "OPUSDNS_ACCOUNT": "demo",
            "OPUSDNS_API_KEY": secrets_["opusdns"], "OPUSDNS_POLL_INTERVAL_S": "2", "POSTGRES_DSN": dsn, **seal,
        }),
    ]  # fmt: skip
    if imap is not None:
        services.append(
            ("imap-parser", "imap_parser", {
                "HEALTH_PORT": str(_free_port()), "IMAP_HOST": imap.host, "IMAP_PORT": str(imap.port),
                "IMAP_SECURITY": "plain", "IMAP_ALLOW_PLAIN": "true", "IMAP_USERNAME": imap.username,
                "IMAP_PASSWORD": imap.password, "IMAP_POLL_INTERVAL_S": "2", "POSTGRES_DSN": dsn, **seal,
            })
        )  # fmt: skip
    return [
        ServiceProcess(name, f"regpipe.services.{module}", {**common, **env}, logs) for name, module, env in services
    ]


async def _wait_ready(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} never answered 200")


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
    try:
        bootstrap = endpoints.kafka_bootstrap_servers or ""
        report = await ensure_topics(bootstrap)
        _say(f"Kafka {bootstrap}: topics created {report.created}")
        secrets_ = {
            "most": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "coldmail": secrets.token_urlsafe(24),
            "opensrs": secrets.token_hex(16),
            "opusdns": "opk_" + secrets.token_hex(16),
            "seal_ring": "demo1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        receiver_port = _free_port()
        imap = endpoints.imap
        ready = asyncio.Event()
        world_endpoints = WorldEndpoints()

        def world_ready(world: WorldEndpoints) -> None:
            world_endpoints.opensrs_url, world_endpoints.opusdns_url = world.opensrs_url, world.opusdns_url
            ready.set()

        world_stop = asyncio.Event()
        world_config = WorldConfig(
            receiver_url=f"http://127.0.0.1:{receiver_port}",
            most_secret=secrets_["most"],
            coldmail_token=secrets_["coldmail"],
            coldmail_token_header="x-webhook-token",  # noqa: S106 - a header name
            opensrs_user="reseller",
            opensrs_key=secrets_["opensrs"],
            opusdns_api_key=secrets_["opusdns"],
            imap=MailboxTarget(imap.host, imap.port, imap.username, imap.password) if imap else None,
            tick_s=options.tick_s,
            per_tick=options.per_tick,
        )
        logs = options.state_dir / "logs"
        # The API simulators listen before the pollers start; webhooks sent before the receiver is up are
        # retried on the providers' (scaled) schedules, as real providers would.
        world_task = asyncio.create_task(run_world(world_config, world_stop, world_ready))
        await asyncio.wait_for(ready.wait(), timeout=30)
        services = _services(endpoints, world_endpoints, secrets_, receiver_port, logs)
        _say(f"starting the services (logs in {logs})")
        for service in services:
            service.start()
        await _wait_ready(f"http://127.0.0.1:{receiver_port}/readyz")
        _say("provider world running: Most and Cold Mail webhooks, OpenSRS poll + e-mail, OpusDNS poll")
        _say("canonical events on registrar.events.v1 (time, source, transport, type, outcome, subject, id):")
        watcher = asyncio.create_task(watch_topics(bootstrap, stop, sys.stdout, counts))
        if options.duration_s:
            try:
                await asyncio.wait_for(stop.wait(), timeout=options.duration_s)
            except TimeoutError:
                stop.set()
        else:
            await stop.wait()
        await watcher
    finally:
        stop.set()
        world_stop.set()
        if world_task is not None:
            try:
                await asyncio.wait_for(world_task, timeout=30)
            except (TimeoutError, asyncio.CancelledError):
                world_task.cancel()
        _say("stopping the services and the stack")
        for service in reversed(services):
            code = service.stop()
            if code not in (0, None, -signal.SIGTERM):
                print(f"   {service.name} exited with {code}; log: {service.log_path}", flush=True)
        await asyncio.to_thread(stack.stop)
    print(counts.summary(), flush=True)
    missing = [s for s in _SOURCES if not any(route.startswith(f"{s}/") for route in counts.per_route)]
    if options.require_all_sources and (missing or counts.doubled):
        print(f"missing sources: {missing}; doubled ids: {counts.doubled}", flush=True)
        return 1
    return 0


def demo_state_dir() -> Path:
    """Where the demo keeps its servers' data and the services' logs."""
    return Path(os.environ.get("REGPIPE_DEMO_DIR", ".stack/demo"))
