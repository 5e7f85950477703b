"""The provider world of the local demo: every provider simulator at once, producing events on a steady tick.

Most and Cold Mail Reseller send signed webhooks to the receiver; OpenSRS queues events on its XML API and mails
the same events to the IMAP mailbox (so the same event arrives by poll and by e-mail, as it does for resellers who
enable both); OpusDNS lists events on its REST API. Some webhooks are delivered twice, as providers' retries do.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from regpipe.observability.logging import get_logger
from regpipe.simulators import coldmail, most, opensrs, opusdns
from regpipe.simulators.kit.webhook_sender import Misbehaviour, OutgoingWebhook, SenderAuth
from regpipe.simulators.opensrs.mail import MailboxTarget, Template, deliver, notification_mail
from regpipe.webhooks.auth import AuthScheme

__all__ = ["WorldConfig", "WorldEndpoints", "run_world"]

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WorldConfig:
    """What the world serves and where it sends."""

    receiver_url: str | None
    most_secret: str
    coldmail_token: str
    coldmail_token_header: str
    opensrs_user: str
    opensrs_key: str
    opusdns_api_key: str
    imap: MailboxTarget | None
    host: str = "127.0.0.1"
    opensrs_port: int = 0
    opusdns_port: int = 0
    seed: int = 7
    tick_s: float = 5.0
    per_tick: int = 2
    ticks: int = 0  # 0: until stopped
    duplicate_rate: float = 0.25


@dataclass
class WorldEndpoints:
    """Where the API simulators listen, and what was sent so far."""

    opensrs_url: str = ""
    opusdns_url: str = ""
    sent: Counter[str] = field(default_factory=Counter)


async def run_world(
    config: WorldConfig, stop: asyncio.Event, on_ready: Callable[[WorldEndpoints], None] | None = None
) -> WorldEndpoints:
    """Serve the API simulators and produce events every tick until `stop` (or `config.ticks` ticks)."""
    rng = random.Random(config.seed)
    opensrs_sim = opensrs.OpenSRSSimulator({config.opensrs_user: config.opensrs_key}, seed=config.seed)
    opusdns_sim = opusdns.OpusDnsSimulator(
        api_keys={config.opusdns_api_key: ("events:read", "events:manage")}, seed=config.seed
    )
    world = WorldEndpoints()
    async with (
        opensrs.serve_simulator(opensrs_sim, config.host, config.opensrs_port) as opensrs_url,
        opusdns.serve_simulator(opusdns_sim, config.host, config.opusdns_port) as opusdns_url,
        httpx.AsyncClient(timeout=15) as client,
    ):
        world.opensrs_url = opensrs_url
        world.opusdns_url = opusdns_url
        if on_ready is not None:
            on_ready(world)
        senders = []
        if config.receiver_url:
            odd = Misbehaviour(duplicate=config.duplicate_rate)
            senders = [
                (
                    "most",
                    _random_most,
                    most.create_sender(
                        f"{config.receiver_url}/webhooks/most",
                        SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (config.most_secret,)),
                        client,
                        time_scale=0.01,
                        misbehaviour=odd,
                        rng=random.Random(config.seed + 1),
                    ),
                ),
                (
                    "coldmail",
                    _random_coldmail,
                    coldmail.create_sender(
                        f"{config.receiver_url}/webhooks/coldmail",
                        SenderAuth(AuthScheme.HEADER_TOKEN, (config.coldmail_token,), config.coldmail_token_header),
                        client,
                        time_scale=0.01,
                        misbehaviour=odd,
                        rng=random.Random(config.seed + 2),
                    ),
                ),
            ]
        tick = 0
        templates = list(Template)
        while not stop.is_set() and (config.ticks == 0 or tick < config.ticks):
            tick += 1
            for name, pick, sender in senders:
                outcomes = await sender.send_all([pick(rng) for _ in range(config.per_tick)])
                world.sent[f"{name}:webhook"] += sum(o.delivered for o in outcomes)
            events = opensrs.generate_events(rng, config.per_tick)
            opensrs_sim.enqueue(config.opensrs_user, events)
            world.sent["opensrs:poll"] += len(events)
            if config.imap is not None:
                mails = [notification_mail(e, templates[(tick + i) % len(templates)]) for i, e in enumerate(events)]
                await deliver(config.imap, mails)
                world.sent["opensrs:email"] += len(mails)
            world.sent["opusdns:poll"] += len(opusdns_sim.generate(config.per_tick))
            _log.info("tick", tick=tick, sent=dict(world.sent))
            try:
                await asyncio.wait_for(stop.wait(), timeout=config.tick_s)
            except TimeoutError:
                continue
    return world


def _random_most(rng: random.Random) -> OutgoingWebhook:
    event_type, task_type, status = rng.choice(most.VARIANTS)
    return most.build_event(rng, event_type, task_type=task_type, status=status)


def _random_coldmail(rng: random.Random) -> OutgoingWebhook:
    return coldmail.build_event(rng, rng.choice(coldmail.VARIANTS))
