"""Run the aggregator benchmark: `python -m benchmarks.aggregator [--events N] [--rounds R] [--rate 500]`.

Starts a throwaway Kafka broker and PostgreSQL with the project's stack, pre-loads N canonical events from all four
providers (the generator of the aggregator's tests, `tests.aggregate.world`), then:

1. throughput, alternating rounds, each as its own process in a fresh consumer group over the same events:
   (a) a FastStream subscriber that does nothing but acknowledge (`noop.py`, the aggregator's subscriber settings),
   (b) the aggregator service (`python -m regpipe.services.aggregator`) on a fresh database. Rates are measured from
   outside on the groups' committed offsets, first commit to last (start-up and the group join left out);
2. latency: the aggregator caught up on an empty topic, events of new domains produced at `--rate` per second;
   for every 10th, the time from Kafka's acknowledgement of the event (on the topic) to the first 200 of
   `GET /domains/{name}` on the read API (polled every 5 ms).

Results go to benchmarks/results/aggregator.json and aggregator.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from regpipe.contract import EventType, Source, to_kafka_record
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.kafka_dist import KAFKA_VERSION
from regpipe.stack.ports import free_port
from regpipe.stack.postgres import PostgresServer
from tests.aggregate.events import domain_event
from tests.aggregate.world import world_events

_RESULTS = Path(__file__).resolve().parent.parent / "results"
_PARTITIONS = 6
_TOKEN = "bench-token"  # noqa: S105  # the throwaway token of the benchmark's own aggregator
_SAMPLE_EVERY = 10
_SOURCE = Source.OPENSRS
_TYPE = EventType.DOMAIN_REGISTERED


@dataclass(frozen=True, slots=True)
class Run:
    """What one measured process did."""

    name: str
    events: int
    seconds: float
    events_per_s: float
    cpu_seconds: float
    cpu_us_per_event: float  # CPU of the process between the first commit and the last, per event measured


async def _create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, _PARTITIONS, 1) for name in names])
    finally:
        await admin.close()


async def _preload(bootstrap: str, topic: str, count: int) -> int:
    events = world_events(domains=max(4, count * 4800 // 20_700), seed=3)[:count]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024)
    await producer.start()
    try:
        acks = []
        for event in events:
            record = to_kafka_record(event)
            acks.append(await producer.send(topic, value=record.value, key=record.key, headers=record.headers))
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    return len(events)


async def _committed(bootstrap: str, group: str, topic: str) -> int:
    tps = [TopicPartition(topic, p) for p in range(_PARTITIONS)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return sum([await consumer.committed(tp) or 0 for tp in tps])
    finally:
        await consumer.stop()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _fresh_database(server: PostgresServer) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(server.admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server.dsn.rsplit("/", 1)[0] + f"/{name}"


async def _measure(
    name: str, argv: list[str], env: dict[str, str], bootstrap: str, group: str, topic: str, total: int, logs: Path
) -> Run:
    with (logs / f"{name}-{group}.log").open("wb") as log:  # opened once, before measuring
        proc = await asyncio.create_subprocess_exec(*argv, env={**os.environ, **env}, stdout=log, stderr=log)
        try:
            first: tuple[float, int, float] | None = None
            deadline = time.monotonic() + 900
            while True:
                committed = await _committed(bootstrap, group, topic)
                now = time.perf_counter()
                if committed and first is None:
                    first = (now, committed, _cpu_seconds(proc.pid))
                if committed >= total:
                    break
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} stopped or stalled at {committed} of {total}")
                await asyncio.sleep(0.05)
            cpu = _cpu_seconds(proc.pid)
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=30)
    assert first is not None
    seconds = now - first[0]
    measured = total - first[1]
    per_event = (cpu - first[2]) / measured * 1e6 if measured else 0.0
    return Run(name, measured, round(seconds, 3), round(measured / seconds, 1), round(cpu, 2), round(per_event, 1))


def _aggregator_env(bootstrap: str, dsn: str, topic: str, group: str, port: int) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "POSTGRES_DSN": dsn,
        "AGGREGATOR_INPUT_TOPIC": topic,
        "AGGREGATOR_OUTBOX_TOPIC": f"{topic}-outbox",
        "AGGREGATOR_GROUP_ID": group,
        "AGGREGATOR_API_TOKENS": _TOKEN,
        "HEALTH_HOST": "127.0.0.1",
        "HEALTH_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


async def _latency(bootstrap: str, server: PostgresServer, rate: int, seconds: int, logs: Path) -> dict[str, Any]:
    topic = f"latency-{uuid.uuid4().hex[:8]}"
    await _create_topics(bootstrap, [topic, f"{topic}-outbox"])
    port = free_port()
    env = _aggregator_env(bootstrap, await _fresh_database(server), topic, f"g-{topic}", port)
    with (logs / "latency.log").open("wb") as log:  # opened once, before measuring
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "regpipe.services.aggregator", env={**os.environ, **env}, stdout=log, stderr=log
        )
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=5, headers={"Authorization": f"Bearer {_TOKEN}"}
            ) as client:
                while True:
                    try:
                        if (await client.get("/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                await asyncio.sleep(3)  # the consumer group's first assignment
                return await _drive(bootstrap, topic, client, rate, seconds)
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=30)


async def _drive(bootstrap: str, topic: str, client: httpx.AsyncClient, rate: int, seconds: int) -> dict[str, Any]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)
    await producer.start()
    latencies: list[float] = []
    probes: list[asyncio.Task[None]] = []

    async def probe(name: str, sent: asyncio.Future[Any]) -> None:
        await sent
        on_topic = time.perf_counter()
        # polling the read API from outside is the measurement itself: nothing to wait on instead
        while (await client.get(f"/domains/{name}")).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        latencies.append(time.perf_counter() - on_topic)

    started = time.perf_counter()
    total = rate * seconds
    try:
        for i in range(total):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            name = f"lat-{i}.example"
            record = to_kafka_record(domain_event(f"lat-{i}", _SOURCE, _TYPE, name, minute=i))
            sent = await producer.send(topic, value=record.value, key=record.key, headers=record.headers)
            if i % _SAMPLE_EVERY == 0:
                probes.append(asyncio.create_task(probe(name, sent)))
        elapsed = time.perf_counter() - started
        await asyncio.wait_for(asyncio.gather(*probes), timeout=120)
    finally:
        await producer.stop()
    ordered = sorted(latencies)
    return {
        "target_rate": rate,
        "achieved_rate": round(total / elapsed, 1),
        "events": total,
        "samples": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def _main(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    logs = base / "logs"
    kafka = KafkaServer(base / "kafka")
    pg = PostgresServer()
    load_before = os.getloadavg()[0]
    await kafka.astart()
    await pg.astart()
    try:
        bootstrap = kafka.bootstrap_servers
        topic = "bench-events"
        await _create_topics(bootstrap, [topic, f"{topic}-outbox"])
        total = await _preload(bootstrap, topic, args.events)
        runs: dict[str, list[Run]] = {"noop": [], "aggregator": []}
        for round_no in range(args.rounds):
            group = f"noop-{round_no}"
            runs["noop"].append(
                await _measure(
                    "noop",
                    [sys.executable, "-m", "benchmarks.aggregator.noop"],
                    {
                        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                        "BENCH_TOPIC": topic,
                        "BENCH_GROUP": group,
                        "BENCH_BATCH_MAX": str(args.batch_max),
                    },
                    bootstrap,
                    group,
                    topic,
                    total,
                    logs,
                )
            )
            group = f"aggregator-{round_no}"
            env = _aggregator_env(bootstrap, await _fresh_database(pg), topic, group, 0)
            env["AGGREGATOR_BATCH_MAX"] = str(args.batch_max)
            runs["aggregator"].append(
                await _measure(
                    "aggregator",
                    [sys.executable, "-m", "regpipe.services.aggregator"],
                    env,
                    bootstrap,
                    group,
                    topic,
                    total,
                    logs,
                )
            )
            print(
                f"round {round_no}: noop {runs['noop'][-1].events_per_s}/s, "
                f"aggregator {runs['aggregator'][-1].events_per_s}/s",
                flush=True,
            )
        latency = await _latency(bootstrap, pg, args.rate, args.seconds, logs)
        print(f"latency: {latency}", flush=True)
    finally:
        await pg.astop()
        await kafka.astop()
    median = {name: statistics.median(r.events_per_s for r in rs) for name, rs in runs.items()}
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kafka": KAFKA_VERSION,
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
        },
        "events": total,
        "batch_max": args.batch_max,
        "runs": {name: [asdict(r) for r in rs] for name, rs in runs.items()},
        "median_events_per_s": median,
        "ratio": round(median["aggregator"] / median["noop"], 3),
        "latency": latency,
    }


def _markdown(result: dict[str, Any]) -> str:
    m, lat = result["machine"], result["latency"]
    rows = "\n".join(
        f"| {name} | {result['median_events_per_s'][name]} | "
        f"{', '.join(str(r['events_per_s']) for r in result['runs'][name])} | "
        f"{', '.join(str(r['cpu_seconds']) for r in result['runs'][name])} | "
        f"{', '.join(str(r['cpu_us_per_event']) for r in result['runs'][name])} |"
        for name in ("noop", "aggregator")
    )
    return f"""# Aggregator benchmark

{result["when"]}: {m["cpus"]} CPUs shared with the broker and PostgreSQL (1-minute load average {m["load_before"]}
before, {m["load_after"]} after), Python {m["python"]}, Kafka {m["kafka"]}, batch {result["batch_max"]}.

Input: {result["events"]} canonical events from all four providers (`tests.aggregate.world`).

| | median events/s | each round | CPU seconds per round | CPU us per event (measured window) |
|---|---|---|---|---|
{rows}

Ratio aggregator / do-nothing FastStream subscriber: **{result["ratio"]}**.

Latency from an event on `registrar.events.v1` (Kafka's acknowledgement) to its domain visible through
`GET /domains/{{name}}`, at {lat["achieved_rate"]} events/s (target {lat["target_rate"]}), {lat["samples"]} samples:
p50 {lat["p50_ms"]} ms, p95 {lat["p95_ms"]} ms, **p99 {lat["p99_ms"]} ms**, max {lat["max_ms"]} ms.
"""


def main() -> None:
    """Parse the options, run, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-max", type=int, default=500)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=20)
    # Not a 0700 temp dir: as root the PostgreSQL server runs as `postgres`, which must traverse it.
    base = Path(tempfile.mkdtemp(prefix="regpipe-bench-agg-"))
    base.chmod(0o755)
    (base / "logs").mkdir()
    try:
        result = asyncio.run(_main(parser.parse_args(), base))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    _RESULTS.mkdir(exist_ok=True)
    (_RESULTS / "aggregator.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    (_RESULTS / "aggregator.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
