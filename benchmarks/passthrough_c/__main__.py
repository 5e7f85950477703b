"""Run the C-client reference: `python -m benchmarks.passthrough_c [--records N] [--rounds R]`.

On a throwaway broker, pre-loads the normalizer benchmark's raw records (`benchmarks.normalizer.records`, same
seed), then runs, alternately and each as its own process in a fresh consumer group, a one-to-one aiokafka copy loop
(`copy_aiokafka`) and the same loop on confluent-kafka (librdkafka). Throughput is measured from
outside on the groups' committed offsets, first commit to last, as the normalizer benchmark does. It shows how
far the Python client is from what the machine can do; no target is set against it. Results go to
benchmarks/results/passthrough_c.json and .md; exits non-zero only when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import confluent_kafka
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from benchmarks.normalizer.records import generate
from regpipe.kafka.topics import TOPICS, Topic
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.kafka_dist import KAFKA_VERSION

_RESULTS = Path(__file__).resolve().parent.parent / "results"
_TIMEOUT_S = 600.0
_INPUT = "bench.raw"
_OUTPUT = "bench.copy"
_MODULES = {"aiokafka": "benchmarks.passthrough_c.copy_aiokafka", "confluent_kafka": "benchmarks.passthrough_c.copy"}


class BenchmarkError(RuntimeError):
    """The benchmark could not run."""


@dataclass(frozen=True, slots=True)
class Run:
    """What one measured pass-through process did."""

    name: str
    records: int
    seconds: float
    records_per_s: float
    cpu_seconds: float
    cpu_us_per_record: float
    peak_rss_mib: float


def _proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MiB) of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return cpu, next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def _preload(bootstrap: str, count: int, seed: int) -> float:
    """Write the records; their mean value size in bytes."""
    records = generate(count, seed=seed)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024)
    await producer.start()
    try:
        acks = [await producer.send(_INPUT, value=r.value, key=r.key, headers=r.headers) for r in records]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    return sum(len(r.value) for r in records) / count


async def _committed(admin: AIOKafkaAdminClient, group: str) -> int:
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    except KafkaError as exc:
        if not exc.retriable:  # a fresh broker's group coordinator appears with the first group
            raise
        return 0
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == _INPUT and meta.offset > 0)


async def _measure(name: str, module: str, bootstrap: str, group: str, total: int, batch_max: int, log: Path) -> Run:
    """Run the pass-through until `group` committed all `total` records; rate from the first commit to the last."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    started = time.perf_counter()
    with log.open("wb") as out:
        command = [sys.executable, "-m", module, bootstrap, _INPUT, _OUTPUT, group, str(batch_max)]
        process = await asyncio.create_subprocess_exec(*command, stdout=out, stderr=asyncio.subprocess.STDOUT)
    try:
        first: tuple[float, int] | None = None
        while True:
            if process.returncode is not None:
                raise BenchmarkError(f"{name} exited with {process.returncode}: {_tail(log)}")
            done = await _committed(admin, group)
            now = time.perf_counter()
            if done and first is None:
                first = (now, done)
            if done >= total:
                break
            if now - started > _TIMEOUT_S:
                raise BenchmarkError(f"{name} did not finish in {_TIMEOUT_S} s ({done}/{total})")
            await asyncio.sleep(0.05)
        cpu, rss = _proc_stats(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)
        await admin.close()
    assert first is not None
    measured, seconds = total - first[1], now - first[0]
    return Run(
        name=name,
        records=measured,
        seconds=round(seconds, 3),
        records_per_s=round(measured / seconds, 1),
        cpu_seconds=round(cpu, 2),
        cpu_us_per_record=round(cpu / total * 1e6, 1),
        peak_rss_mib=round(rss, 1),
    )


async def _bench(count: int, batch_max: int, seed: int, rounds: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    runs: dict[str, list[Run]] = {"aiokafka": [], "confluent_kafka": []}
    with tempfile.TemporaryDirectory(prefix="regpipe-bench-c-") as tmp:
        kafka = KafkaServer(Path(tmp) / "kafka", heap="768m")
        await kafka.astart()
        try:
            bootstrap = kafka.bootstrap_servers
            partitions = TOPICS[Topic.RAW].partitions
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            await admin.start()
            try:
                await admin.create_topics([NewTopic(name, partitions, 1) for name in (_INPUT, _OUTPUT)])
            finally:
                await admin.close()
            mean_bytes = await _preload(bootstrap, count, seed)
            for index in range(rounds):
                for client, module in _MODULES.items():
                    group = f"bench-{client}-{index}"
                    log = Path(tmp) / f"{group}.log"
                    runs[client].append(await _measure(client, module, bootstrap, group, count, batch_max, log))
                    print(f"round {index}: {runs[client][-1]}", flush=True)
        finally:
            await kafka.astop()
    median = {client: sorted(r, key=lambda run: run.records_per_s)[(len(r) - 1) // 2] for client, r in runs.items()}
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kafka": KAFKA_VERSION,
            "librdkafka": confluent_kafka.libversion()[0],
            "load_average_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },
        "input": {"records": count, "seed": seed, "mean_value_bytes": round(mean_bytes, 1)},
        "batch_max": batch_max,
        "rounds": rounds,
        "aiokafka": asdict(median["aiokafka"]),
        "confluent_kafka": asdict(median["confluent_kafka"]),
        "ratio_c_to_aiokafka": round(median["confluent_kafka"].records_per_s / median["aiokafka"].records_per_s, 2),
        "all_rounds": {client: [run.records_per_s for run in r] for client, r in runs.items()},
    }


def _summary(results: dict[str, Any]) -> str:
    machine = results["machine"]
    rows = "".join(
        f"| {run['name']} | {run['records_per_s']} | {run['cpu_us_per_record']} | {run['peak_rss_mib']} |\n"
        for run in (results["aiokafka"], results["confluent_kafka"])
    )
    return (
        "# C-client pass-through (reference only)\n\n"
        f"{results['date']}: {machine['cpus']} CPUs shared with the broker (1-minute load average "
        f"{machine['load_average_1m_before_after'][0]} before, {machine['load_average_1m_before_after'][1]} after), "
        f"librdkafka {machine['librdkafka']}, Kafka {machine['kafka']}; {results['input']['records']} raw records of "
        f"the normalizer benchmark, batch {results['batch_max']}, median of {results['rounds']} alternating rounds.\n\n"
        "| pass-through | records/s | CPU us/record | peak RSS MiB |\n|---|---|---|---|\n"
        f"{rows}\nconfluent-kafka / aiokafka: **{results['ratio_c_to_aiokafka']}x**. All rounds: "
        f"{results['all_rounds']}.\n"
    )


def main() -> None:
    """Parse arguments, run, write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=60_000)
    parser.add_argument("--batch-max", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    try:
        results = asyncio.run(_bench(args.records, args.batch_max, args.seed, args.rounds))
    except BenchmarkError as failed:
        sys.exit(f"C-client pass-through benchmark could not run: {failed}")
    _RESULTS.mkdir(parents=True, exist_ok=True)
    (_RESULTS / "passthrough_c.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    (_RESULTS / "passthrough_c.md").write_text(_summary(results))
    print(_summary(results))


if __name__ == "__main__":
    main()
