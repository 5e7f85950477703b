"""Run the normalizer benchmark: `python -m benchmarks.normalizer [--records N] [--batch-max B] [--rounds R]`.

Starts a throwaway Kafka broker with the project's stack, pre-loads N raw records, then alternates R rounds of,
each as its own process in a fresh consumer group over the same records, (a) the fan-out-matched aiokafka
pass-through (it writes, for each raw record, the records the normalizer writes for it: same count, keys, sizes
and headers) and (b) the normalizer service. Throughput is measured from outside, on the groups' committed
offsets, from the first commit to the last (so interpreter start-up and the group join are left out); peak
RSS and CPU time come from /proc. Results go to benchmarks/results/normalizer.json and normalizer.md. It prints
its figures and exits non-zero only when it could not run, never because a target was missed.
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

from benchmarks.normalizer.records import expected_outputs, generate, write_outputs
from regpipe.kafka.topics import TOPICS, Topic
from regpipe.replay.ranges import RangeSpec, TopicReader
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.kafka_dist import KAFKA_VERSION

_RESULTS = Path(__file__).resolve().parent.parent / "results"
_TARGET_RATIO = 0.6
_POLL_S = 0.05
_TIMEOUT_S = 900.0


@dataclass(frozen=True, slots=True)
class Run:
    """What one measured process did."""

    name: str
    records: int
    seconds: float
    records_per_s: float
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mib: float


async def _create_topics(bootstrap: str, names: dict[str, int]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name, partitions in names.items()])
    finally:
        await admin.close()


async def _preload(bootstrap: str, topic: str, count: int, seed: int, outputs_file: Path) -> dict[str, Any]:
    started = time.perf_counter()
    records = generate(count, seed=seed)
    generated = time.perf_counter() - started
    outputs = expected_outputs(records, topic)
    write_outputs(outputs, outputs_file)
    written = [out for outs in outputs.values() for out in outs]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024)
    await producer.start()
    try:
        acks = [await producer.send(topic, value=r.value, key=r.key, headers=r.headers) for r in records]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    sizes = [len(r.value) for r in records]
    return {
        "records": count,
        "most": sum(1 for r in records if r.source.value == "most" and not r.broken),
        "coldmail": sum(1 for r in records if r.source.value == "coldmail" and not r.broken),
        "broken": sum(1 for r in records if r.broken),
        "mean_value_bytes": round(sum(sizes) / count, 1),
        "generation_seconds": round(generated, 1),
        "matched_outputs": len(written),
        "matched_outputs_per_raw_record": round(len(written) / count, 2),
        "matched_mean_output_value_bytes": round(sum(len(out[2]) for out in written) / len(written), 1),
    }


def _proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MiB) of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    peak_kib = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM")
    )
    return cpu, peak_kib / 1024


async def _measure(
    name: str, command: list[str], env: dict[str, str], bootstrap: str, group: str, total: int, log: Path
) -> Run:
    """Run `command` until `group` committed all `total` records of the raw topic; measure it on the way."""
    topic = "bench.raw"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    started = time.perf_counter()
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command, env={**os.environ, **env}, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        first: tuple[float, int] | None = None
        cpu_at_first = 0.0
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
            try:
                offsets = await admin.list_consumer_group_offsets(group)
            except KafkaError as exc:
                # On a fresh broker the group coordinator appears with the first group.
                if not exc.retriable:
                    raise
                offsets = {}
            done = sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)
            now = time.perf_counter()
            if done and first is None:
                first = (now, done)
                # CPU from here on: interpreter start-up, imports and the group join are not the stage's work.
                cpu_at_first = _proc_stats(process.pid)[0]
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
    return Run(
        name=name,
        records=measured,
        seconds=round(seconds, 3),
        records_per_s=round(measured / seconds, 1),
        wall_seconds=round(now - started, 3),
        cpu_seconds=round(cpu - cpu_at_first, 2),
        peak_rss_mib=round(rss, 1),
    )


async def _topic_size(bootstrap: str, topic: str) -> int:
    async with TopicReader(bootstrap) as reader:
        return sum(r.end for r in await reader.resolve(topic, RangeSpec()))


async def _bench(count: int, batch_max: int, seed: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="regpipe-bench-") as tmp:
        kafka = KafkaServer(Path(tmp) / "kafka", heap="768m")
        await kafka.astart()
        try:
            bootstrap = kafka.bootstrap_servers
            raw_partitions = TOPICS[Topic.RAW].partitions
            topics = {
                "raw": raw_partitions,
                "normalized": TOPICS[Topic.NORMALIZED].partitions,
                "quarantine": TOPICS[Topic.QUARANTINE].partitions,
                "copy.normalized": TOPICS[Topic.NORMALIZED].partitions,
                "copy.quarantine": TOPICS[Topic.QUARANTINE].partitions,
            }
            await _create_topics(bootstrap, {f"bench.{n}": p for n, p in topics.items()})
            outputs_file = Path(tmp) / "outputs.pickle"
            load = await _preload(bootstrap, "bench.raw", count, seed, outputs_file)
            load_average_before = os.getloadavg()
            passthroughs: list[Run] = []
            normalizers: list[Run] = []
            # Alternating rounds, each in a fresh group over the same records: a machine shared with other work
            # then slows both sides alike.
            for index in range(rounds):
                group = f"bench-copy-{index}"
                command = [
                    *("-m", "benchmarks.normalizer.passthrough", bootstrap, "bench.raw"),
                    *("bench.copy.normalized", "bench.copy.quarantine", group, str(batch_max), str(outputs_file)),
                ]
                passthroughs.append(
                    await _measure(
                        "fan-out-matched aiokafka pass-through",
                        [sys.executable, *command],
                        {},
                        bootstrap,
                        group,
                        count,
                        Path(tmp) / f"passthrough-{index}.log",
                    )
                )
                group = f"bench-normalizer-{index}"
                normalizers.append(
                    await _measure(
                        "normalizer service",
                        [sys.executable, "-m", "regpipe.services.normalizer"],
                        {
                            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                            "NORMALIZER_GROUP_ID": group,
                            "NORMALIZER_INPUT_TOPIC": "bench.raw",
                            "NORMALIZER_OUTPUT_TOPIC": "bench.normalized",
                            "NORMALIZER_QUARANTINE_TOPIC": "bench.quarantine",
                            "NORMALIZER_BATCH_MAX": str(batch_max),
                            "HEALTH_PORT": "0",
                            "LOG_LEVEL": "ERROR",
                        },
                        bootstrap,
                        group,
                        count,
                        Path(tmp) / f"normalizer-{index}.log",
                    )
                )
            output = {
                "canonical_events": await _topic_size(bootstrap, "bench.normalized") // rounds,
                "quarantined": await _topic_size(bootstrap, "bench.quarantine") // rounds,
                "passthrough_records": (
                    await _topic_size(bootstrap, "bench.copy.normalized")
                    + await _topic_size(bootstrap, "bench.copy.quarantine")
                )
                // rounds,
            }
            load_average_after = os.getloadavg()
        finally:
            await kafka.astop()
    passthrough = _median(passthroughs)
    normalizer = _median(normalizers)
    events_per_record = output["canonical_events"] / count
    # Alternating rounds: each round's ratio compares two runs made side by side, under the same load.
    round_ratios = sorted(n.records_per_s / p.records_per_s for p, n in zip(passthroughs, normalizers, strict=True))
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
        "output_per_round": output,
        "passthrough": asdict(passthrough),
        "normalizer": asdict(normalizer),
        "ratio": round(normalizer.records_per_s / passthrough.records_per_s, 3),
        "median_round_ratio": round(round_ratios[(len(round_ratios) - 1) // 2], 3),
        # The normalizer writes several records per raw record; per record written the comparison reads:
        "normalizer_events_per_s": round(normalizer.records_per_s * events_per_record, 1),
        "cpu_us_per_raw_record": {
            "passthrough": round(passthrough.cpu_seconds / passthrough.records * 1e6, 1),
            "normalizer": round(normalizer.cpu_seconds / normalizer.records * 1e6, 1),
        },
        "target_ratio": _TARGET_RATIO,
        "all_rounds": {
            "passthrough_records_per_s": [run.records_per_s for run in passthroughs],
            "normalizer_records_per_s": [run.records_per_s for run in normalizers],
            "passthrough_cpu_seconds": [run.cpu_seconds for run in passthroughs],
            "normalizer_cpu_seconds": [run.cpu_seconds for run in normalizers],
        },
    }


def _median(runs: list[Run]) -> Run:
    """The run with the median rate (the lower middle one for an even count)."""
    return sorted(runs, key=lambda run: run.records_per_s)[(len(runs) - 1) // 2]


def _summary(results: dict[str, Any]) -> str:
    """A short markdown summary of `results` (the analysis is in benchmarks/normalizer/README.md)."""
    a, b = results["passthrough"], results["normalizer"]
    verdict = "meets" if results["ratio"] >= results["target_ratio"] else "is below"
    load, out, machine = results["input"], results["output_per_round"], results["machine"]
    cpu = results["cpu_us_per_raw_record"]
    rows = "".join(
        f"| {run['name']} | {run['records_per_s']} | {run['records']} | {run['seconds']} | {run['cpu_seconds']} | "
        f"{run['peak_rss_mib']} |\n"
        for run in (a, b)
    )
    return (
        "# Normalizer benchmark\n\n"
        f"{results['date']}: {machine['cpus']} CPUs shared with the broker (1-minute load average "
        f"{machine['load_average_1m_before_after'][0]} before, {machine['load_average_1m_before_after'][1]} after), "
        f"Python {machine['python']}, Kafka {machine['kafka']}, batch {results['batch_max']}, median of "
        f"{results['rounds']} alternating rounds.\n\n"
        f"Input: {load['records']} raw records ({load['most']} Most and {load['coldmail']} Cold Mail webhooks from the "
        f"provider simulators, {load['broken']} broken; mean {load['mean_value_bytes']} bytes). Per round the "
        f"normalizer wrote {out['canonical_events']} canonical events and {out['quarantined']} quarantine records "
        f"({results['normalizer_events_per_s']} events/s); the pass-through wrote {out['passthrough_records']} "
        f"records per round, for each raw record those the normalizer writes for it ({load['matched_outputs']} "
        f"precomputed, mean value {load['matched_mean_output_value_bytes']} bytes). CPU per raw record: "
        f"{cpu['passthrough']} us pass-through, {cpu['normalizer']} us normalizer.\n\n"
        "| | raw records/s | measured records | seconds | CPU seconds (measured interval) | peak RSS MiB |\n"
        "|---|---|---|---|---|---|\n"
        f"{rows}\n"
        f"Ratio normalizer / pass-through (medians): **{results['ratio']}** ({verdict} the {results['target_ratio']} "
        f"target); median of the per-round ratios {results['median_round_ratio']}. "
        f"All rounds: pass-through {results['all_rounds']['passthrough_records_per_s']}, normalizer "
        f"{results['all_rounds']['normalizer_records_per_s']} records/s.\n"
    )


def main() -> None:
    """Parse arguments, run, write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch-max", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = asyncio.run(_bench(args.records, args.batch_max, args.seed, args.rounds))
    _RESULTS.mkdir(parents=True, exist_ok=True)
    (_RESULTS / "normalizer.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    (_RESULTS / "normalizer.md").write_text(_summary(results))
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
