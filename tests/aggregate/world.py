"""A deterministic stream of canonical events from all four providers, as the mappers would produce them: Most
batches (stage-1 and stage-2 events, per-order events), tasks and reminders; Cold Mail orders; OpenSRS orders,
transfers and domain events; OpusDNS operations. Every event has its own provider time."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from regpipe.contract import CanonicalEvent, EventType, Outcome, Source
from tests.aggregate.events import batch_event, domain_event, event, order_event

#: Expiry dates are spread around this instant, so checkpoints fall due near it.
EXPIRY_BASE = datetime(2026, 12, 1, tzinfo=UTC)


class _World:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.counter = itertools.count()
        self.events: list[CanonicalEvent] = []

    def tick(self) -> tuple[str, float]:
        n = next(self.counter)
        return f"w{self.seed}-{n}", n * 0.5

    def expiry(self) -> datetime:
        return EXPIRY_BASE + timedelta(days=self.rng.randint(2, 60), hours=self.rng.randint(0, 23))


def _most(w: _World, names: list[str], batch_no: int) -> None:
    batch = f"B{w.seed}-{batch_no}"
    orders = [
        (f"O{w.seed}-{batch_no}-{i}", d, w.rng.choice(["REGISTERED", "SETTING_NS", "FAILED"]))
        for i, d in enumerate(names)
    ]
    for order_id, domain, status in orders:
        name, minute = w.tick()
        w.events.append(order_event(name, batch, order_id, domain, status, minute=minute))
    name, minute = w.tick()
    w.events.append(batch_event(name, EventType.ORDER_BATCH_REGISTERED, batch, orders, minute=minute))
    for _, domain, status in orders:
        if status != "FAILED":
            name, minute = w.tick()
            w.events.append(
                domain_event(
                    name, Source.MOST, EventType.DOMAIN_REGISTERED, domain, minute=minute, expires_at=w.expiry()
                )
            )
    final = [(o, d, "FAILED" if s == "FAILED" else "COMPLETED") for o, d, s in orders]
    for order_id, domain, status in final:
        name, minute = w.tick()
        w.events.append(order_event(name, batch, order_id, domain, status, minute=minute))
    name, minute = w.tick()
    w.events.append(batch_event(name, EventType.ORDER_BATCH_COMPLETED, batch, final, minute=minute))
    live = [d for _, d, s in final if s == "COMPLETED"]
    if live:
        name, minute = w.tick()
        items = [{"domain": d, "ok": w.rng.random() < 0.8, "data": {"term": 1}} for d in live]
        failed = sum(1 for item in items if not item["ok"])
        w.events.append(
            event(
                name,
                Source.MOST,
                EventType.TASK_COMPLETED,
                minute=minute,
                key=f"T-{batch}",
                outcome=Outcome.FAILURE if failed else Outcome.SUCCESS,
                data={
                    "task_id": f"T-{batch}",
                    "task_type": "domain.renew",
                    "status": "PARTIAL" if failed else "COMPLETED",
                    "items": items,
                    "succeeded_count": len(items) - failed,
                    "failed_count": failed,
                },
            )
        )
        for index, item in enumerate(items):
            name, minute = w.tick()
            kind = EventType.DOMAIN_RENEWED if item["ok"] else EventType.DOMAIN_RENEWAL_FAILED
            extra = {"expires_at": w.expiry() + timedelta(days=365)} if item["ok"] else {}
            w.events.append(
                domain_event(
                    name,
                    Source.MOST,
                    kind,
                    str(item["domain"]),
                    minute=minute,
                    outcome=Outcome.SUCCESS if item["ok"] else Outcome.FAILURE,
                    task_id=f"T-{batch}",
                    item_index=index,
                    **extra,
                )
            )
        name, minute = w.tick()
        w.events.append(
            domain_event(
                name,
                Source.MOST,
                EventType.DOMAIN_EXPIRING,
                live[0],
                minute=minute,
                outcome=Outcome.NOTIFICATION,
                checkpoint=30,
                expires_at=w.expiry(),
            )
        )


def _coldmail(w: _World, names: list[str], order_no: int) -> None:
    order_id = f"CM{w.seed}-{order_no}"
    for domain in names:
        name, minute = w.tick()
        if w.rng.random() < 0.15:
            w.events.append(
                domain_event(
                    name,
                    Source.COLDMAIL,
                    EventType.DOMAIN_REGISTRATION_FAILED,
                    domain,
                    minute=minute,
                    outcome=Outcome.FAILURE,
                    order_id=order_id,
                )
            )
            continue
        w.events.append(
            domain_event(
                name,
                Source.COLDMAIL,
                EventType.DOMAIN_REGISTERED,
                domain,
                minute=minute,
                order_id=order_id,
                expires_at=w.expiry(),
            )
        )
        name, minute = w.tick()
        w.events.append(
            domain_event(
                name,
                Source.COLDMAIL,
                EventType.MAILBOX_ORDER_SUCCEEDED,
                domain,
                minute=minute,
                order_id=order_id,
                quantity=2,
            )
        )


def _opensrs(w: _World, domain: str, no: int) -> None:
    s = Source.OPENSRS
    steps: list[tuple[EventType, Outcome, dict[str, object]]] = [
        (
            EventType.ORDER_STATUS_CHANGED,
            Outcome.NOTIFICATION,
            {"order_id": f"SO{w.seed}-{no}", "order_status": "pending"},
        ),
        (EventType.DOMAIN_CREATED, Outcome.SUCCESS, {"expires_at": w.expiry()}),
        (EventType.DOMAIN_REGISTERED, Outcome.SUCCESS, {"expires_at": w.expiry()}),
        (
            EventType.ORDER_STATUS_CHANGED,
            Outcome.SUCCESS,
            {"order_id": f"SO{w.seed}-{no}", "order_status": "completed"},
        ),
        (EventType.DOMAIN_NAMESERVERS_UPDATED, Outcome.SUCCESS, {"nameservers": [f"ns{no % 3}.example.net"]}),
        (EventType.DOMAIN_VERIFICATION_STATUS_CHANGED, Outcome.NOTIFICATION, {"verification_status": "pending"}),
    ]
    if no % 2:
        steps.append(
            (EventType.DOMAIN_VERIFICATION_STATUS_CHANGED, Outcome.SUCCESS, {"verification_status": "verified"})
        )
    if no % 5 == 0:
        steps.append(
            (
                EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
                Outcome.NOTIFICATION,
                {"transfer_id": f"TR{w.seed}-{no}", "transfer_status": "pending_owner"},
            )
        )
        steps.append(
            (
                EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
                Outcome.SUCCESS,
                {"transfer_id": f"TR{w.seed}-{no}", "transfer_status": "completed"},
            )
        )
    for type_, outcome, data in steps:
        name, minute = w.tick()
        if type_ is EventType.ORDER_STATUS_CHANGED:
            w.events.append(
                event(name, s, type_, minute=minute, subject=domain, outcome=outcome, data={"domain": domain, **data})
            )
        else:
            w.events.append(domain_event(name, s, type_, domain, minute=minute, outcome=outcome, **data))


def _opusdns(w: _World, domain: str, no: int) -> None:
    s = Source.OPUSDNS
    steps: list[tuple[EventType, Outcome, dict[str, object]]] = [
        (EventType.DOMAIN_OPERATION_NOTIFICATION, Outcome.NOTIFICATION, {"operation": "registration"}),
        (EventType.DOMAIN_REGISTERED, Outcome.SUCCESS, {}),
        (EventType.DOMAIN_MODIFIED, Outcome.SUCCESS, {}),
        (EventType.DOMAIN_RENEWED, Outcome.SUCCESS, {"expires_at": w.expiry()}),
    ]
    if no % 4 == 0:
        steps.append((EventType.DOMAIN_TRANSFER_STATUS_CHANGED, Outcome.NOTIFICATION, {"direction": "outbound"}))
    if no % 7 == 0:
        steps.append((EventType.DOMAIN_DELETED, Outcome.SUCCESS, {}))
    for type_, outcome, data in steps:
        name, minute = w.tick()
        w.events.append(domain_event(name, s, type_, domain, minute=minute, outcome=outcome, **data))


def world_events(*, domains: int, seed: int = 1) -> list[CanonicalEvent]:
    """Events about `domains` domains (a quarter per provider), in provider-time order."""
    w = _World(seed)
    names = [f"d{seed}-{i}.example" for i in range(domains)]
    by_provider = [names[i::4] for i in range(4)]
    for no, start in enumerate(range(0, len(by_provider[0]), 5)):
        _most(w, by_provider[0][start : start + 5], no)
    for no, start in enumerate(range(0, len(by_provider[1]), 3)):
        _coldmail(w, by_provider[1][start : start + 3], no)
    for no, domain in enumerate(by_provider[2]):
        _opensrs(w, domain, no)
    for no, domain in enumerate(by_provider[3]):
        _opusdns(w, domain, no)
    return w.events
