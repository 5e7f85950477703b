"""Run the deduplicator benchmark: `python -m benchmarks.deduplicator [--raw-records N] [--rounds R]`.

Starts a throwaway Kafka broker with the project's stack, pre-loads the canonical events of N simulated raw records
(keyed by canonical id, as the normalizer writes them; every fifth sent twice) on a normalized topic, then runs,
alternating, each as its own process, in a fresh consumer group over the same records: (a) the transactional
pass-through (`passthrough.py`) and (b) the deduplicator service, each round with fresh output and changelog
topics. Throughput is measured from outside on the groups' committed offsets, first commit to last; CPU time and
peak RSS come from /proc; `NotEnoughReplicas` answers are counted in each process's log. Results go to
benchmarks/results/deduplicator.json and .md; the run exits non-zero only when it could not run.
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

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from benchmarks.deduplicator.records import normalized_records
from benchmarks.deduplicator.state import bytes_per_id, rebuild_seconds
from regpipe.kafka.topics import TOPICS, Topic
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.kafka_dist import KAFKA_VERSION

_RESULTS = Path(__file__).resolve().parent.parent / "results"
_TARGET_RATIO = 0.7
_POLL_S = 0.05
_TIMEOUT_S = 900.0
_INPUT = "bench.normalized"
_RETRY_MARK = b"NotEnoughReplicas"


@dataclass(frozen=True, slots=True)
class Run:
    """What one measured process did."""

    name: str
    records: int
    seconds: float
    records_per_s: float
    cpu_seconds: float
    cpu_us_per_record: float
    peak_rss_mib: float
    not_enough_replicas: int


async def _create_topics(bootstrap: str, names: dict[str, int]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name, partitions in names.items()])
    finally:
        await admin.close()


async def _preload(bootstrap: str, raw_count: int, seed: int) -> dict[str, Any]:
    records = normalized_records(raw_count, seed=seed, duplicate_every=5)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024)
    await producer.start()
    try:
        acks = [await producer.send(_INPUT, value=r.value, key=r.key, headers=r.headers) for r in records]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    return {
        "raw_records": raw_count,
        "records": len(records),
        "distinct_ids": len({r.key for r in records}),
        "mean_value_bytes": round(sum(len(r.value) for r in records) / len(records), 1),
    }


def _proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MiB) of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    return cpu, peak_kib / 1024


async def _measure(
    name: str, command: list[str], env: dict[str, str], bootstrap: str, group: str, total: int, log: Path
) -> Run:
    """Run `command` until `group` committed all `total` input records; measure it on the way."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    started = time.perf_counter()
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command, env={**os.environ, **env}, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        first: tuple[float, int, float] | None = None
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
            try:
                offsets = await admin.list_consumer_group_offsets(group)
            except KafkaError as exc:
                if not exc.retriable:
                    raise
                offsets = {}
            done = sum(meta.offset for tp, meta in offsets.items() if tp.topic == _INPUT and meta.offset > 0)
            now = time.perf_counter()
            if done and first is None:
                first = (now, done, _proc_stats(process.pid)[0])
            if done >= total:
                break
            if now - started > _TIMEOUT_S:
                raise RuntimeError(f"{name} did not finish in {_TIMEOUT_S}s ({done}/{total}); see {log}")
            await asyncio.sleep(_POLL_S)
        cpu, rss = _proc_stats(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)
        await admin.close()
    assert first is not None
    measured = total - first[1]
    seconds = now - first[0]
    cpu_measured = cpu - first[2]
    return Run(
        name=name,
        records=measured,
        seconds=round(seconds, 3),
        records_per_s=round(measured / seconds, 1),
        cpu_seconds=round(cpu_measured, 2),
        cpu_us_per_record=round(cpu_measured / measured * 1e6, 1),
        peak_rss_mib=round(rss, 1),
        not_enough_replicas=_count_retries(log),
    )


def _count_retries(log: Path) -> int:
    """How often the broker answered `NotEnoughReplicas` (aiokafka logs each retried produce response)."""
    return log.read_bytes().count(_RETRY_MARK)


async def _bench(raw_count: int, batch_max: int, seed: int, rounds: int, state_ids: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="regpipe-bench-") as tmp:
        kafka = KafkaServer(Path(tmp) / "kafka", heap="768m")
        await kafka.astart()
        try:
            bootstrap = kafka.bootstrap_servers
            partitions = TOPICS[Topic.NORMALIZED].partitions
            await _create_topics(bootstrap, {_INPUT: partitions, "bench.quarantine": 3})
            load = await _preload(bootstrap, raw_count, seed)
            total = load["records"]
            load_average_before = os.getloadavg()
            passthroughs: list[Run] = []
            stages: list[Run] = []
            # Alternating rounds, each with fresh groups, transactional ids and output topics over the same input:
            # a machine shared with other work then slows both sides alike.
            for index in range(rounds):
                out = {f"bench.copy.{index}": partitions, f"bench.copy-state.{index}": partitions}
                out |= {f"bench.events.{index}": partitions, f"bench.state.{index}": partitions}
                await _create_topics(bootstrap, out)
                group = f"bench-txn-copy-{index}"
                args = [bootstrap, _INPUT, f"bench.copy.{index}", f"bench.copy-state.{index}", group]
                passthroughs.append(
                    await _measure(
                        "transactional pass-through",
                        [sys.executable, "-m", "benchmarks.deduplicator.passthrough", *args, str(batch_max), group],
                        {},
                        bootstrap,
                        group,
                        total,
                        Path(tmp) / f"passthrough-{index}.log",
                    )
                )
                group = f"bench-dedup-{index}"
                stages.append(
                    await _measure(
                        "deduplicator service",
                        [sys.executable, "-m", "regpipe.services.deduplicator"],
                        {
                            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                            "DEDUP_GROUP_ID": group,
                            "DEDUP_TRANSACTIONAL_ID_PREFIX": group,
                            "DEDUP_INPUT_TOPIC": _INPUT,
                            "DEDUP_OUTPUT_TOPIC": f"bench.events.{index}",
                            "DEDUP_CHANGELOG_TOPIC": f"bench.state.{index}",
                            "DEDUP_QUARANTINE_TOPIC": "bench.quarantine",
                            "DEDUP_BATCH_MAX": str(batch_max),
                            "HEALTH_PORT": "0",
                            "LOG_LEVEL": "WARNING",
                        },
                        bootstrap,
                        group,
                        total,
                        Path(tmp) / f"deduplicator-{index}.log",
                    )
                )
            load_average_after = os.getloadavg()
            await _create_topics(bootstrap, {"bench.rebuild": 1})
            rebuild = await rebuild_seconds(bootstrap, "bench.rebuild", state_ids)
        finally:
            await kafka.astop()
    passthrough = _median(passthroughs)
    stage = _median(stages)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kafka": KAFKA_VERSION,
            "load_average_1m_before_after": [round(load_average_before[0], 2), round(load_average_after[0], 2)],
        },
        "batch_max": batch_max,
        "rounds": rounds,
        "input": load,
        "passthrough": asdict(passthrough),
        "deduplicator": asdict(stage),
        "ratio": round(stage.records_per_s / passthrough.records_per_s, 3),
        # On a shared machine one round can be slowed alone: the ratio of each round's pair, and the CPU ratio
        # (what the ratio would be if both were CPU-bound on an otherwise idle core) say more than the medians.
        "round_ratios": [
            round(b.records_per_s / a.records_per_s, 3) for a, b in zip(passthroughs, stages, strict=True)
        ],
        "cpu_ratio": round(passthrough.cpu_us_per_record / stage.cpu_us_per_record, 3),
        "state": {
            "bytes_per_id": bytes_per_id(1_000_000),
            "rebuild_one_partition": rebuild,
        },
        "target_ratio": _TARGET_RATIO,
        "all_rounds": {
            "passthrough_records_per_s": [run.records_per_s for run in passthroughs],
            "deduplicator_records_per_s": [run.records_per_s for run in stages],
        },
    }


def _median(runs: list[Run]) -> Run:
    """The run with the median rate (the lower middle one for an even count)."""
    return sorted(runs, key=lambda run: run.records_per_s)[(len(runs) - 1) // 2]


def _summary(results: dict[str, Any]) -> str:
    """A short markdown summary of `results` (the analysis is in benchmarks/deduplicator/README.md)."""
    a, b = results["passthrough"], results["deduplicator"]
    verdict = "meets" if results["ratio"] >= results["target_ratio"] else "is below"
    load, machine = results["input"], results["machine"]
    state = results["state"]
    rebuild = state["rebuild_one_partition"]
    rows = "".join(
        f"| {run['name']} | {run['records_per_s']} | {run['records']} | {run['seconds']} | {run['cpu_us_per_record']} "
        f"| {run['peak_rss_mib']} | {run['not_enough_replicas']} |\n"
        for run in (a, b)
    )
    return (
        "# Deduplicator benchmark\n\n"
        f"{results['date']}: {machine['cpus']} CPUs shared with the broker (1-minute load average "
        f"{machine['load_average_1m_before_after'][0]} before, {machine['load_average_1m_before_after'][1]} after), "
        f"Python {machine['python']}, Kafka {machine['kafka']}, batch {results['batch_max']}, median of "
        f"{results['rounds']} alternating rounds.\n\n"
        f"Input: {load['records']} records on the normalized topic ({load['distinct_ids']} distinct ids, the "
        f"canonical events of {load['raw_records']} simulated raw records, every fifth sent twice; mean "
        f"{load['mean_value_bytes']} bytes).\n\n"
        "| | records/s | measured records | seconds | CPU us/record | peak RSS MiB | NotEnoughReplicas answers |\n"
        "|---|---|---|---|---|---|---|\n"
        f"{rows}\n"
        f"Ratio deduplicator / transactional pass-through: **{results['ratio']}** ({verdict} the "
        f"{results['target_ratio']} target). All rounds: pass-through "
        f"{results['all_rounds']['passthrough_records_per_s']}, deduplicator "
        f"{results['all_rounds']['deduplicator_records_per_s']} records/s; ratio of each round's pair "
        f"{results['round_ratios']}; CPU per record, pass-through / deduplicator: {results['cpu_ratio']}.\n\n"
        f"State: {state['bytes_per_id']['partition_state']} bytes per remembered id "
        f"({state['bytes_per_id']['unbounded_uuid_dict']} in the unbounded map it replaced), so "
        f"{round(state['bytes_per_id']['partition_state'] * 1e6 / 2**20)} MiB per million ids; rebuilding a "
        f"partition of {rebuild['entries']} changelog entries took {rebuild['seconds']} s "
        f"({rebuild['entries_per_s']} entries/s).\n"
    )


def main() -> None:
    """Parse arguments, run, write the results; exit non-zero only when the benchmark could not run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw-records", type=int, default=10_000)
    parser.add_argument("--batch-max", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--state-ids", type=int, default=200_000, help="changelog entries of the rebuild test")
    parser.add_argument("--output", type=Path, default=_RESULTS)
    args = parser.parse_args()
    results = asyncio.run(_bench(args.raw_records, args.batch_max, args.seed, args.rounds, args.state_ids))
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "deduplicator.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    (args.output / "deduplicator.md").write_text(_summary(results))
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
