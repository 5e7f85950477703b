"""Every service the run command starts: its module, its variables and where an operator reads its metrics.

One entry per service; a new service joins the run command by adding its entry here. Variables that the
caller's environment already sets for a provider (e.g. `OPENSRS_URL`) are left to it, so the ingestors can be
pointed at real provider accounts instead of the simulators (`docs/operations.md` lists them).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from secrets import token_urlsafe

from regpipe.stack.ports import free_port
from regpipe.stack.stack import StackEndpoints

__all__ = ["DEMO_AUTHSERV_ID", "PROVIDER_VARIABLES", "DemoSecrets", "DemoService", "WorldUrls", "build_catalog"]

#: The receiving mail server the demo plays, and the domain OpenSRS's simulated notifications are signed by.
DEMO_AUTHSERV_ID = "mx.regpipe-demo.test"
DEMO_SIGNING_DOMAIN = "notifications.opensrs.example"

#: The variables that point an ingestor at a real provider account; set in the environment, they win.
PROVIDER_VARIABLES: dict[str, tuple[str, ...]] = {
    "webhook-receiver": ("MOST_AUTH_SCHEME", "MOST_WEBHOOK_SECRETS", "COLDMAIL_AUTH_SCHEME",
                         "COLDMAIL_WEBHOOK_SECRETS", "COLDMAIL_TOKEN_HEADER", "WEBHOOK_HOST", "WEBHOOK_PORT"),
    "opensrs-poller": ("OPENSRS_URL", "OPENSRS_USERNAME", "OPENSRS_API_KEY"),
    "opusdns-poller": ("OPUSDNS_BASE_URL", "OPUSDNS_ACCOUNT", "OPUSDNS_API_KEY", "OPUSDNS_CLIENT_ID",
                       "OPUSDNS_CLIENT_SECRET"),
    "imap-parser": ("IMAP_HOST", "IMAP_PORT", "IMAP_SECURITY", "IMAP_ALLOW_PLAIN", "IMAP_USERNAME", "IMAP_PASSWORD",
                    "IMAP_AUTH_TRUSTED_AUTHSERV_IDS", "IMAP_AUTH_SIGNING_DOMAINS"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoSecrets:
    """The demo's generated credentials (new ones every run)."""

    most: str
    coldmail: str
    opensrs: str
    opusdns: str
    seal_ring: str
    delivery_admin: str = ""
    aggregator_api: str = ""


@dataclass(frozen=True, slots=True)
class WorldUrls:
    """Where the simulated provider APIs listen."""

    opensrs: str
    opusdns: str


@dataclass(frozen=True, slots=True)
class DemoService:
    """One service of the run command."""

    name: str
    module: str
    env: dict[str, str]
    health_url: str
    metrics_url: str
    extra: dict[str, str] = field(default_factory=dict)  # e.g. an API's URL and token, shown to the user


def _own(service: str, env: dict[str, str], environment: Mapping[str, str]) -> dict[str, str]:
    """`env` less the provider variables the caller's environment sets itself for `service`."""
    taken = {name for name in PROVIDER_VARIABLES.get(service, ()) if environment.get(name)}
    return {name: value for name, value in env.items() if name not in taken}


def build_catalog(
    stack: StackEndpoints,
    world: WorldUrls,
    secrets: DemoSecrets,
    receiver_port: int,
    environment: Mapping[str, str] | None = None,
) -> list[DemoService]:
    """The services, wired to the local stack and the simulators."""
    environment = os.environ if environment is None else environment
    bootstrap, dsn = stack.kafka_bootstrap_servers or "", stack.postgres_dsn or ""
    common = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "LOG_LEVEL": "INFO", "HEALTH_HOST": "127.0.0.1"}
    seal = {"RAW_SEAL_KEYS": secrets.seal_ring, "RAW_SEAL_ACTIVE_KEY": "demo1"}
    services: list[DemoService] = []

    def add(
        name: str, module: str, env: dict[str, str], *, port: int | None = None, extra: dict[str, str] | None = None
    ) -> DemoService:
        health = port or free_port()
        own = _own(name, {**common, "HEALTH_PORT": str(health), **env}, environment)
        base = f"http://127.0.0.1:{health}"
        service = DemoService(name, f"regpipe.services.{module}", own, f"{base}/readyz", f"{base}/metrics", extra or {})
        services.append(service)
        return service

    receiver_metrics = free_port()
    receiver = DemoService(
        "webhook-receiver",
        "regpipe.services.webhook_receiver",
        _own("webhook-receiver", {
            **common, "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(receiver_port),
            "METRICS_PORT": str(receiver_metrics),
            "MOST_AUTH_SCHEME": "standard_webhooks", "MOST_WEBHOOK_SECRETS": secrets.most,
            "COLDMAIL_AUTH_SCHEME": "header_token", "COLDMAIL_WEBHOOK_SECRETS": secrets.coldmail,
            "COLDMAIL_TOKEN_HEADER": "x-webhook-token", **seal,
        }, environment),
        f"http://127.0.0.1:{receiver_port}/readyz",
        f"http://127.0.0.1:{receiver_metrics}/metrics",
    )  # fmt: skip
    services.append(receiver)
    add("normalizer", "normalizer", dict(seal))
    add("deduplicator", "deduplicator", {})
    delivery_port = free_port()
    # The run command's subscriber listens on 127.0.0.1, which the SSRF guard refuses unless allowed.
    add("delivery", "delivery", {
        "POSTGRES_DSN": dsn, "DELIVERY_ADMIN_TOKEN": secrets.delivery_admin,
        "DELIVERY_ALLOWED_NETWORKS": "127.0.0.0/8", "DELIVERY_RETRY_SCHEDULE_S": "0,2,5,10,30,60,300", **seal,
    }, port=delivery_port, extra={"admin API": f"http://127.0.0.1:{delivery_port}/docs"})  # fmt: skip
    aggregator_port = free_port()
    # Short quiet time and scan period so Cold Mail orders settle and checkpoints appear while one watches.
    add("aggregator", "aggregator", {
        "POSTGRES_DSN": dsn, "AGGREGATOR_API_TOKENS": secrets.aggregator_api, "AGGREGATOR_SETTLE_QUIET_S": "20",
        "AGGREGATOR_SCAN_INTERVAL_S": "5",
    }, port=aggregator_port, extra={"read API": f"http://127.0.0.1:{aggregator_port}/docs"})  # fmt: skip
    add("opensrs-poller", "opensrs_poller", {
        "OPENSRS_URL": world.opensrs, "OPENSRS_USERNAME": "reseller", "OPENSRS_API_KEY": secrets.opensrs,
        "OPENSRS_POLL_LIMIT": "10", "OPENSRS_POLL_INTERVAL_S": "2", "POSTGRES_DSN": dsn, **seal,
    })  # fmt: skip
    add("opusdns-poller", "opusdns_poller", {
        "OPUSDNS_BASE_URL": world.opusdns, "OPUSDNS_ACCOUNT": "demo", "OPUSDNS_API_KEY": secrets.opusdns,
        "OPUSDNS_POLL_INTERVAL_S": "2", "POSTGRES_DSN": dsn, **seal,
    })  # fmt: skip
    imap = stack.imap
    if imap is not None:
        add("imap-parser", "imap_parser", {
            "IMAP_HOST": imap.host, "IMAP_PORT": str(imap.port), "IMAP_SECURITY": "plain", "IMAP_ALLOW_PLAIN": "true",
            "IMAP_USERNAME": imap.username, "IMAP_PASSWORD": imap.password, "IMAP_POLL_INTERVAL_S": "2",
            # The demo's mail system vouches for OpenSRS's DKIM signature, as a production mail server would.
            "IMAP_AUTH_TRUSTED_AUTHSERV_IDS": DEMO_AUTHSERV_ID, "IMAP_AUTH_SIGNING_DOMAINS": DEMO_SIGNING_DOMAIN,
            "POSTGRES_DSN": dsn, **seal,
        })  # fmt: skip
    # The operator console over the read API and the admin API, reading every service above's metrics; fresh
    # sign-in tokens every run, printed by the run command.
    console_port, viewer, operator = free_port(), "viewer-" + token_urlsafe(12), "operator-" + token_urlsafe(12)
    add("console", "console", {
        "CONSOLE_SESSION_SECRET": token_urlsafe(32), "CONSOLE_VIEWER_TOKENS": viewer,
        "CONSOLE_OPERATOR_TOKENS": operator, "CONSOLE_SECURE_COOKIES": "false",
        "CONSOLE_READ_API_URL": f"http://127.0.0.1:{aggregator_port}", "CONSOLE_READ_API_TOKEN": secrets.aggregator_api,
        "CONSOLE_ADMIN_API_URL": f"http://127.0.0.1:{delivery_port}", "CONSOLE_ADMIN_API_TOKEN": secrets.delivery_admin,
        "CONSOLE_METRICS_URLS": ",".join(f"{s.name}={s.metrics_url}" for s in services),
    }, port=console_port, extra={
        "console": f"http://127.0.0.1:{console_port}/", "console viewer token": viewer,
        "console operator token": operator,
    })  # fmt: skip
    return services
