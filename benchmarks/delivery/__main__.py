"""Delivery benchmark (not a test): `python -m benchmarks.delivery [--events N] [--rate R] [--seconds S]`.

Starts a throwaway Kafka broker and PostgreSQL server, and a subscriber endpoint in its own process that answers
204 at once. Then, in the same run:

1. **bare httpx**: one pooled `httpx.AsyncClient` posts N signed event bodies with the same concurrency the
   subscription allows (the ceiling any delivery loop could reach on this machine);
2. **delivery service**: N events are put on the input topic, then `regpipe-delivery` (its own process) starts
   and delivers them (intake into PostgreSQL, claim, sign, send, record); the ratio 2/1 is the cost of
   durability (job rows, attempt rows, leases). Both rates are arrivals/s at the subscriber, first to last;
3. **latency**: with the service running, events are produced at R/s for S seconds; for each, the time from the
   broker's acknowledgement (the event is on the topic) to its arrival at the subscriber (p50, p99, max).

Results go to benchmarks/results/delivery.json and delivery.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from regpipe.contract import CanonicalEvent, EventType, Outcome, Source, Transport, to_kafka_record
from regpipe.contract.events import DomainExpiring
from regpipe.delivery.address_guard import AddressGuard, SystemResolver
from regpipe.delivery.intake import event_body
from regpipe.delivery.models import SubscriptionSpec
from regpipe.delivery.signing import delivery_headers
from regpipe.delivery.subscriptions import create_subscription
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.ports import free_port
from regpipe.stack.postgres import PostgresServer

_RESULTS = Path(__file__).resolve().parent.parent / "results"
_CONCURRENCY = 64
_TOPIC = "bench.events"


def _event(i: int) -> CanonicalEvent:
    domain = f"bench-{i}-{uuid.uuid4().hex[:8]}.example"
    return CanonicalEvent(
        id=uuid.uuid4(),
        source=Source.MOST,
        type=EventType.DOMAIN_EXPIRING,
        subject=domain,
        time=datetime.now(UTC),
        partition_key=domain,
        outcome=Outcome.NOTIFICATION,
        provider_event_id=str(i),
        provider_event_type="domain.expiring",
        transport=Transport.WEBHOOK,
        mapper_version="bench/1",
        data=DomainExpiring.model_validate({"domain": domain, "checkpoint": 7}),
    )


async def _arrivals(client: httpx.AsyncClient, base: str) -> list[tuple[str, float]]:
    answer = await client.get(f"{base}/arrivals")
    return [(str(i), float(t)) for i, t in orjson.loads(answer.content)]


async def _wait_arrivals(
    client: httpx.AsyncClient, base: str, count: int, timeout_s: float = 600
) -> list[tuple[str, float]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = await _arrivals(client, base)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.5)
    raise RuntimeError(f"only {len(await _arrivals(client, base))} of {count} arrived")


async def _bare(base: str, events: list[CanonicalEvent], secret: str) -> None:
    """One pooled httpx client posts the signed bodies, `_CONCURRENCY` at a time (each signed when sent, as the
    service does)."""
    bodies = [(str(e.id), event_body(e)) for e in events]
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=_CONCURRENCY, max_keepalive_connections=_CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=10) as client:

        async def worker() -> None:
            while not queue.empty():
                event_id, body = queue.get_nowait()
                headers = delivery_headers([secret], event_id, body, int(time.time()))
                answer = await client.post(f"{base}/hook", content=body, headers=headers)
                answer.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(_CONCURRENCY)))


async def _produce(bootstrap: str, events: list[CanonicalEvent], rate: float | None) -> dict[str, float]:
    """Put events on the topic (at `rate`/s, or as fast as possible); event id -> wall time of the broker's ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=1)
    await producer.start()
    acked: dict[str, float] = {}
    try:
        futures = []
        started = time.monotonic()
        for i, event in enumerate(events):
            if rate is not None:
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            record = to_kafka_record(event)
            future = await producer.send(_TOPIC, key=record.key, value=record.value, headers=record.headers)
            future.add_done_callback(lambda _, event_id=str(event.id): acked.__setitem__(event_id, time.time()))
            futures.append(future)
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return acked


def _rate(arrivals: list[tuple[str, float]]) -> float:
    """Arrivals per second at the subscriber, first to last (both measurements are timed the same way)."""
    times = sorted(t for _, t in arrivals)
    return (len(times) - 1) / (times[-1] - times[0])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _state_dir() -> Path:
    # Not 0700: as root, PostgreSQL runs as `postgres` and must enter it.
    state = Path(tempfile.mkdtemp(prefix="regpipe-bench-delivery-"))
    state.chmod(0o755)
    return state


def _spawn(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *arguments], env=env)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def run(events: int, rates: list[float], seconds: float) -> dict[str, Any]:
    """Run the three measurements; return the results."""
    state = _state_dir()
    kafka, postgres = KafkaServer(state / "kafka"), PostgresServer()
    await asyncio.gather(kafka.astart(), postgres.astart())
    receiver_port = free_port()
    receiver = _spawn(["-m", "benchmarks.delivery.receiver", str(receiver_port)], dict(os.environ))
    service: subprocess.Popen[bytes] | None = None
    base = f"http://127.0.0.1:{receiver_port}"
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
        await admin.start()
        await admin.create_topics([NewTopic(_TOPIC, 6, 1), NewTopic("bench.dlq", 1, 1)])
        await admin.close()
        pool = await asyncpg.create_pool(postgres.dsn, min_size=1, max_size=2)
        guard = AddressGuard.with_allow_list(SystemResolver(), ["127.0.0.0/8"])
        created = await create_subscription(
            pool, guard, SubscriptionSpec(url=f"{base}/hook", max_concurrency=_CONCURRENCY)
        )
        secret = created.secret.get_secret_value()
        await pool.close()
        async with httpx.AsyncClient(trust_env=False) as client:
            for _ in range(100):
                try:
                    await _arrivals(client, base)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            load_before = _load()
            await _bare(base, [_event(i) for i in range(events)], secret)
            bare_rate = _rate(await _wait_arrivals(client, base, events))
            await client.post(f"{base}/reset")

            backlog = [_event(i) for i in range(events)]
            await _produce(kafka.bootstrap_servers, backlog, None)
            env = {
                **os.environ,
                "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "POSTGRES_DSN": postgres.dsn,
                "DELIVERY_INPUT_TOPIC": _TOPIC,
                "DELIVERY_DLQ_TOPIC": "bench.dlq",
                "DELIVERY_ALLOWED_NETWORKS": "127.0.0.0/8",
                "DELIVERY_MAX_IN_FLIGHT": str(_CONCURRENCY),
                "HEALTH_PORT": "0",
                "LOG_LEVEL": "WARNING",
            }
            service = _spawn(["-m", "regpipe.services.delivery"], env)
            service_rate = _rate(await _wait_arrivals(client, base, events))
            await client.post(f"{base}/reset")

            latency_runs = []
            for rate in rates:
                await client.post(f"{base}/reset")
                paced = [_event(i) for i in range(int(rate * seconds))]
                acked = await _produce(kafka.bootstrap_servers, paced, rate)
                got = await _wait_arrivals(client, base, len(paced))
                first: dict[str, float] = {}
                for event_id, at in got:
                    first.setdefault(event_id, at)
                latencies = [first[i] - t for i, t in acked.items()]
                latency_runs.append(
                    {
                        "rate_per_s": rate,
                        "seconds": seconds,
                        "events": len(paced),
                        "p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
                        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
                        "max_ms": round(max(latencies) * 1000, 1),
                        "duplicates": len(got) - len(first),
                    }
                )
            load_after = _load()
    finally:
        if service is not None:
            service.terminate()
            service.wait(timeout=30)
        receiver.terminate()
        receiver.wait(timeout=10)
        await asyncio.gather(kafka.astop(), postgres.astop())
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_before": load_before,
                    "load_after": load_after},
        "events": events,
        "concurrency": _CONCURRENCY,
        "bare_httpx_per_s": round(bare_rate, 1),
        "delivery_per_s": round(service_rate, 1),
        "ratio": round(service_rate / bare_rate, 3),
        "latency": latency_runs,
    }  # fmt: skip


def _markdown(result: dict[str, Any]) -> str:
    rows = "".join(
        f"| event on the topic -> arrival at the subscriber, {run['rate_per_s']:g} events/s for {run['seconds']:g} s "
        f"| p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, max {run['max_ms']} ms, {run['duplicates']} duplicates |\n"
        for run in result["latency"]
    )
    return f"""# Delivery benchmark

`python -m benchmarks.delivery` ({result["when"]}, {result["machine"]["cpus"]} CPUs, Python
{result["machine"]["python"]}, load average before {result["machine"]["load_before"]}, after
{result["machine"]["load_after"]}). Subscriber: a local endpoint in its own process answering 204 at once.

| measure | value |
|---|---|
| bare httpx client, {result["events"]} signed posts, {result["concurrency"]} at a time \
| {result["bare_httpx_per_s"]} /s |
| delivery service, the same number of events from the topic (intake, job rows, claim, sign, send, \
attempt rows) | {result["delivery_per_s"]} /s |
| ratio delivery / bare | {result["ratio"]} |
{rows}
A rate above what the subscriber and this machine can take (the bare client's rate is the ceiling) builds a
backlog, and the latency then measures the backlog, not the service.
"""


def main() -> None:
    """Parse arguments, run, write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rate", type=float, action="append", help="events/s of a latency run (repeatable; 500)")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    result = asyncio.run(run(args.events, args.rate or [500.0], args.seconds))
    _RESULTS.mkdir(exist_ok=True)
    (_RESULTS / "delivery.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    (_RESULTS / "delivery.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
