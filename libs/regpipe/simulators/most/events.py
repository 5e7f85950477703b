"""Most's webhook events, simulated: every event type of Most's documentation with realistic random content
(from a seeded `random.Random`); `delivery` sends them the way Most does.

Bodies use the envelope and field names of `regpipe.providers.most.payloads` (the team's documented assumption).
`domain.get_auth_info` results carry an EPP `authInfo` (a transfer secret), as the real ones do.
"""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from regpipe.providers.most.payloads import MostEventType, TaskType
from regpipe.simulators.kit.webhook_sender import OutgoingWebhook

__all__ = ["VARIANTS", "build_event", "generate"]

#: Every distinct shape: each task type with each final status, then the other event types.
VARIANTS: Final[tuple[tuple[MostEventType, TaskType | None, str | None], ...]] = (
    *(
        (MostEventType.TASK_COMPLETED, task_type, status)
        for task_type in TaskType
        for status in ("COMPLETED", "PARTIAL", "FAILED")
    ),
    *((event_type, None, None) for event_type in MostEventType if event_type is not MostEventType.TASK_COMPLETED),
)

_CHECKPOINTS = (30, 7, 6, 5, 4, 3, 2, 1)
_THRESHOLDS = (1000, 500, 200, 100, 50, 10)
_REGISTRARS = ("Spaceship", "Dynadot", "Webnic", "NiceNIC")
_WORDS = (
    "acme", "blue", "cloud", "delta", "ember", "forge", "grove", "harbor", "iris", "jade",
    "kite", "lumen", "maple", "nova", "orbit", "pine", "quartz", "river", "solar", "tide",
)  # fmt: skip
_IDN_LABELS = ("bücher", "café", "straße", "münchen", "ünicode")
_TLDS = ("com", "net", "org", "io", "co", "xyz", "shop", "de", "app", "dev")
_NAMESERVERS = (
    ("ns1.cloudflare.com", "ns2.cloudflare.com"),
    ("dns1.registrar-servers.com", "dns2.registrar-servers.com"),
    ("ns-1.awsdns-01.org", "ns-2.awsdns-02.net", "ns-3.awsdns-03.com"),
)
_TASK_ERRORS = (
    ("REGISTRAR_ERROR", "Registrar rejected the request"),
    ("DOMAIN_LOCKED", "Domain is locked at the registry"),
    ("INSUFFICIENT_FUNDS", "Insufficient balance at the registrar"),
    ("NOT_FOUND", "Domain not found in this account"),
)
_ORDER_ERRORS = ("Domain unavailable", "Registrar error", "Premium price changed", "Invalid nameservers")
_BLOCK_REASONS = ("phishing", "malware", "trademark", "spam", "csam")
_BLOCK_SOURCES = ("registrar_abuse", "registry_scanner", "most_abuse")
_COMPLAINT_CATEGORIES = ("phishing", "malware", "copyright", "trademark", "csam")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _token(rng: random.Random, length: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _domain(rng: random.Random) -> str:
    if rng.random() < 0.05:
        label = rng.choice(_IDN_LABELS) + str(rng.randint(1, 99))
    else:
        label = "-".join(rng.sample(_WORDS, rng.randint(1, 2))) + str(rng.randint(0, 999))
    return f"{label}.{rng.choice(_TLDS)}"


def _auth_info(rng: random.Random) -> str:
    return _token(rng, 16, string.ascii_letters + string.digits + "!#%+")


def _task_item(rng: random.Random, task_type: TaskType, ok: bool, now: datetime) -> dict[str, Any]:
    item: dict[str, Any] = {"domain": _domain(rng), "ok": ok, "data": None, "error": None}
    if not ok:
        code, message = rng.choice(_TASK_ERRORS)
        item["error"] = {"code": code, "message": message} if rng.random() < 0.7 else message
        return item
    match task_type:
        case TaskType.RENEW:
            term = rng.randint(1, 3)
            item["data"] = {"term": term, "newExpiry": _iso(now + timedelta(days=365 * term + rng.randint(0, 300)))}
        case TaskType.SET_NAMESERVERS:
            item["data"] = {"nameservers": list(rng.choice(_NAMESERVERS))}
        case TaskType.GET_AUTH_INFO:
            item["data"] = {"authInfo": _auth_info(rng), "recipient": f"registrant@{_domain(rng)}"}
    return item


def _task(rng: random.Random, task_type: TaskType, status: str, now: datetime) -> dict[str, Any]:
    size = rng.randint(2, 6)
    if status == "COMPLETED":
        oks = [True] * size
    elif status == "PARTIAL":
        failures = rng.randint(1, size - 1)
        oks = rng.sample([False] * failures + [True] * (size - failures), size)
    else:
        oks = [False] * size
    created = now - timedelta(seconds=rng.randint(5, 900))
    data: dict[str, Any] = {
        "taskId": "tsk_" + _token(rng, 20),
        "type": task_type.value,
        "status": status,
        "createdAt": _iso(created),
        "completedAt": _iso(now),
        "result": [_task_item(rng, task_type, ok, now) for ok in oks],
    }
    if status == "FAILED" and rng.random() < 0.3:
        # "the task hit a fatal error before per-item processing": no items at all
        data["result"] = []
        data["error"] = {"code": "REGISTRAR_UNAVAILABLE", "message": "Registrar API did not answer"}
    return data


def _orders(rng: random.Random, stage_one: bool, now: datetime) -> dict[str, Any]:
    size = rng.randint(1, 50)
    states = ("REGISTERED", "SETTING_NS", "COMPLETED") if stage_one else ("COMPLETED",)
    orders: list[dict[str, Any]] = []
    for _ in range(size):
        failed = rng.random() < 0.15
        order: dict[str, Any] = {
            "orderId": "ord_" + _token(rng, 16),
            "domain": _domain(rng),
            "status": "FAILED" if failed else rng.choice(states),
        }
        if failed:
            order["error"] = rng.choice(_ORDER_ERRORS)
        orders.append(order)
    failed_count = sum(1 for order in orders if order["status"] == "FAILED")
    data: dict[str, Any] = {"batchId": "bat_" + _token(rng, 16), "orders": orders, "failed": failed_count}
    if stage_one:
        data["registered"] = size - failed_count
    else:
        data["completed"] = size - failed_count
    return data


def _domain_notice(rng: random.Random) -> dict[str, Any]:
    return {"domain": _domain(rng), "domainId": "dom_" + _token(rng, 16)}


def _expiring(rng: random.Random, now: datetime) -> dict[str, Any]:
    checkpoint = rng.choice(_CHECKPOINTS)
    # The scan runs every 6 hours, so the exact delta is a few hours off the checkpoint.
    days_left = round(checkpoint - rng.uniform(0, 0.25), 3)
    return {
        **_domain_notice(rng),
        "checkpoint": checkpoint,
        "daysLeft": days_left,
        "expiresAt": _iso(now + timedelta(days=days_left)),
    }


def _deleting(rng: random.Random, now: datetime) -> dict[str, Any]:
    expired = now - timedelta(days=rng.randint(1, 40))
    return {
        **_domain_notice(rng),
        "expiresAt": _iso(expired),
        "deleteAt": _iso(now + timedelta(days=rng.randint(1, 5))),
    }


def _blocked(rng: random.Random, now: datetime) -> dict[str, Any]:
    return {
        **_domain_notice(rng),
        "reason": rng.choice(_BLOCK_REASONS),
        "source": rng.choice(_BLOCK_SOURCES),
        "registrar": rng.choice(_REGISTRARS),
    }


def _complaint(rng: random.Random, now: datetime) -> dict[str, Any]:
    return {
        **_domain_notice(rng),
        "complaintId": "cmp_" + _token(rng, 16),
        "category": rng.choice(_COMPLAINT_CATEGORIES),
        "details": "Reported URL serves a login form imitating a bank",
        "receivedAt": _iso(now),
        "respondBy": _iso(now + timedelta(hours=rng.randint(2, 12))),
    }


def _balance_low(rng: random.Random, now: datetime) -> dict[str, Any]:
    threshold = rng.choice(_THRESHOLDS)
    balance = round(rng.uniform(threshold * 0.5, threshold - 0.01), 2)
    return {"threshold": threshold, "balance": balance, "source": rng.choice(("live", "approx")), "currency": "USD"}


_NOTICES: Final[dict[MostEventType, Callable[[random.Random, datetime], dict[str, Any]]]] = {
    MostEventType.ORDERS_REGISTERED: lambda rng, now: _orders(rng, True, now),
    MostEventType.ORDERS_COMPLETED: lambda rng, now: _orders(rng, False, now),
    MostEventType.DOMAIN_EXPIRING: _expiring,
    MostEventType.DOMAIN_DELETING: _deleting,
    MostEventType.DOMAIN_BLOCKED: _blocked,
    MostEventType.DOMAIN_COMPLAINT: _complaint,
    MostEventType.BALANCE_LOW: _balance_low,
}


def build_event(
    rng: random.Random,
    event_type: MostEventType,
    *,
    task_type: TaskType | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> OutgoingWebhook:
    """One webhook of `event_type` (for `task.completed`: of `task_type` ending in `status`, random if None)."""
    moment = now or datetime.now(UTC)
    if event_type is MostEventType.TASK_COMPLETED:
        data = _task(
            rng,
            task_type or rng.choice(list(TaskType)),
            status or rng.choice(("COMPLETED", "PARTIAL", "FAILED")),
            moment,
        )
    else:
        data = _NOTICES[event_type](rng, moment)
    event_id = "evt_" + base64.b32encode(rng.randbytes(15)).decode().lower()
    envelope = {"id": event_id, "type": event_type.value, "created_at": _iso(moment), "data": data}
    return OutgoingWebhook(event_id=event_id, event_type=event_type.value, body=orjson.dumps(envelope))


def generate(rng: random.Random, n: int, *, now: datetime | None = None) -> list[OutgoingWebhook]:
    """`n` webhooks cycling through `VARIANTS`, so any `n >= len(VARIANTS)` covers every type and task outcome."""
    moment = now or datetime.now(UTC)
    return [
        build_event(rng, event_type, task_type=task_type, status=status, now=moment + timedelta(seconds=index))
        for index, (event_type, task_type, status) in enumerate(VARIANTS[i % len(VARIANTS)] for i in range(n))
    ]
