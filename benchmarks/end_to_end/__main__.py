"""Run the end-to-end benchmark: `python -m benchmarks.end_to_end [--seconds S] [--sustain-seconds S] ...`.

Starts a throwaway Kafka broker with the project's stack and the registry's topics, then the webhook receiver,
the normalizer and the deduplicator as their services (separate processes, as in production), a reader of
`registrar.events.v1` (read_committed, a process of its own) and, one step after the other, an open-loop sender
of signed single-event Most webhooks (`sender.py`). Latency steps (100, 500, 1,000/s by default) give p50/p99
from the POST to the event readable on the public topic; then the rate steps up, a minute each, until the backlog
grows: the highest rate before that is the sustained rate. The time is split per stage with the Kafka record
timestamps of the raw, normalized and public records. Peak RSS and CPU of every service come from /proc.
Results go to benchmarks/results/end_to_end.json and end_to_end.md; exits non-zero only when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import signal
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.end_to_end.analysis import Arrival, StepRecord, analyse
from regpipe.kafka import Topic, ensure_topics
from regpipe.kafka.topics import TOPICS
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.kafka_dist import KAFKA_VERSION

_RESULTS = Path(__file__).resolve().parent.parent / "results"
_SECRET = "whsec_" + base64.b64encode(b"bench-most-secret-0123456789abcd").decode()
_SERVICES = ("webhook_receiver", "normalizer", "deduplicator")
_DRAIN_TIMEOUT_S = 90.0
_TARGETS = {"p99_ms_at_500": 100, "p99_ms_at_1000": 250, "sustained_per_s": 2500, "peak_rss_mib": 150}


class BenchmarkError(RuntimeError):
    """The benchmark could not run (a process died, the pipeline never delivered)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MiB) of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    return cpu, peak_kib / 1024


def _broker_pid(data_dir: Path) -> int | None:
    """The broker's JVM: the one process whose command line names this run's broker folder."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(data_dir).encode() in cmdline.read_bytes():
                return int(cmdline.parent.name)
        except OSError:
            continue  # the process ended meanwhile
    return None


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, to give a step's machine utilisation."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


class _Pipeline:
    """The three services and the reader as subprocesses, their logs in `log_dir`."""

    def __init__(self, bootstrap: str, log_dir: Path) -> None:
        self.port = _free_port()
        self.log_dir = log_dir
        self.arrivals_file = log_dir / "arrivals.txt"
        common = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "LOG_LEVEL": "WARNING", "HEALTH_PORT": "0"}
        self._envs = {
            "webhook_receiver": {
                **common,
                "WEBHOOK_HOST": "127.0.0.1",
                "WEBHOOK_PORT": str(self.port),
                "MOST_AUTH_SCHEME": "standard_webhooks",
                "MOST_WEBHOOK_SECRETS": _SECRET,
            },
            "normalizer": common,
            "deduplicator": common,
        }
        self._bootstrap = bootstrap
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.broker_pid: int | None = None

    async def start(self) -> None:
        reader = [sys.executable, "-m", "benchmarks.end_to_end.reader", self._bootstrap, Topic.EVENTS.value]
        reader.append(str(TOPICS[Topic.EVENTS].partitions))
        self.processes["reader"] = await self._spawn("reader", [*reader, str(self.arrivals_file)], dict(os.environ))
        for service in _SERVICES:
            command = [sys.executable, "-m", f"regpipe.services.{service}"]
            self.processes[service] = await self._spawn(service, command, self._envs[service])
        deadline = time.monotonic() + 120
        while not (self.arrivals_file.exists() and self.arrivals_file.read_text().startswith("ready")):
            self.check_alive()
            if time.monotonic() > deadline:
                raise BenchmarkError("the reader did not start")
            await asyncio.sleep(0.2)
        while not await self._receiver_ready():
            self.check_alive()
            if time.monotonic() > deadline:
                raise BenchmarkError("the webhook receiver did not become ready")
            await asyncio.sleep(0.2)

    async def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
        with (self.log_dir / f"{name}.log").open("wb") as log:
            return await asyncio.create_subprocess_exec(*command, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT)

    async def _receiver_ready(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        try:
            writer.write(b"GET /readyz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(64), 5)
            return answer.startswith(b"HTTP/1.1 200")
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.returncode is not None:
                log = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise BenchmarkError(f"{name} exited with {process.returncode}:\n{log}")

    def arrived(self) -> int:
        with self.arrivals_file.open("rb") as lines:
            return sum(1 for _ in lines) - 1

    def arrivals(self) -> dict[str, Arrival]:
        found: dict[str, Arrival] = {}
        for line in self.arrivals_file.read_text().splitlines()[1:]:
            ident, at, ts = line.split()
            found.setdefault(ident, Arrival(float(at), int(ts)))
        return found

    def cpu(self) -> dict[str, float]:
        measured = {name: _proc_stats(self.processes[name].pid)[0] for name in (*_SERVICES, "reader")}
        if self.broker_pid is not None:
            measured["broker"] = _proc_stats(self.broker_pid)[0]
        return measured

    def peak_rss_mib(self) -> dict[str, float]:
        return {name: round(_proc_stats(self.processes[name].pid)[1], 1) for name in (*_SERVICES, "reader")}

    async def stop(self) -> None:
        for process in self.processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _send(pipeline: _Pipeline, rate: float, seconds: float, seed: int) -> tuple[StepRecord, float]:
    """One open-loop step; returns what the sender recorded and its CPU seconds."""
    out = pipeline.log_dir / f"sender-{seed}.json"
    command = [sys.executable, "-m", "benchmarks.end_to_end.sender", "--port", str(pipeline.port)]
    command += ["--secret", _SECRET, "--rate", str(rate), "--seconds", str(seconds), "--seed", str(seed)]
    with (pipeline.log_dir / f"sender-{seed}.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, "--out", str(out), stdout=log, stderr=asyncio.subprocess.STDOUT
        )
    code = await process.wait()
    if code != 0:
        raise BenchmarkError(f"the sender exited with {code}: {(pipeline.log_dir / f'sender-{seed}.log').read_text()}")
    data = orjson.loads(out.read_bytes())
    record = StepRecord(rate, seconds, data["ids"], data["due"], data["sent"], data["acked"], data["status"])
    return record, float(data["cpu_s"])


async def _drain(pipeline: _Pipeline, expected: int) -> None:
    """Wait until the reader saw `expected` events in all, or the drain timeout passed (then the step shows it)."""
    deadline = time.monotonic() + _DRAIN_TIMEOUT_S
    while pipeline.arrived() < expected and time.monotonic() < deadline:
        pipeline.check_alive()
        await asyncio.sleep(0.25)


async def _timestamps(bootstrap: str, topic: Topic, id_header: str) -> dict[str, int]:
    """Record timestamp (ms) of the first record of each provider event id on `topic`, read to its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    found: dict[str, int] = {}
    try:
        partitions = [TopicPartition(topic.value, p) for p in range(TOPICS[topic].partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                for record in records:
                    ident = next((v for k, v in record.headers if k == id_header), None)
                    if ident is not None:
                        found.setdefault(ident.decode(), record.timestamp)
    finally:
        await consumer.stop()
    return found


async def _step(pipeline: _Pipeline, rate: float, seconds: float, seed: int, expected: int) -> dict[str, Any]:
    """Send one step, wait for it to drain; the raw figures, analysed later with the topics' timestamps."""
    load_before = os.getloadavg()[0]
    cpu_before, machine_before = pipeline.cpu(), _machine_busy()
    record, sender_cpu = await _send(pipeline, rate, seconds, seed)
    cpu_after, machine_after = pipeline.cpu(), _machine_busy()
    accepted = sum(1 for code in record.status if code == 202)
    await _drain(pipeline, expected + accepted)
    busy = (machine_after[0] - machine_before[0]) / max(1.0, machine_after[1] - machine_before[1])
    per_event = {name: round((cpu_after[name] - cpu_before[name]) / max(1, accepted) * 1e6, 1) for name in cpu_after}
    print(f"step {rate:g}/s x {seconds:g} s: {accepted} accepted, load {load_before:.2f}", flush=True)
    return {
        "record": record,
        "expected_after": expected + accepted,
        "cpu_us_per_event": {**per_event, "sender": round(sender_cpu / max(1, accepted) * 1e6, 1)},
        "machine_cpu_busy": round(busy, 3),
        "load_average_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _dump(
    target: Path,
    steps: list[dict[str, Any]],
    arrivals: dict[str, Arrival],
    raw_ts: dict[str, int],
    normalized_ts: dict[str, int],
) -> None:
    """Per webhook of every step: sent, answered (s), raw, normalized, public record timestamps (ms), readable (s)."""
    rows: dict[str, list[list[float | None]]] = {}
    for step in steps:
        record: StepRecord = step["record"]
        rows[f"{record.rate:g}x{record.seconds:g}"] = [
            [
                sent,
                acked,
                raw_ts.get(ident),
                normalized_ts.get(ident),
                arrivals[ident].events_ts_ms if ident in arrivals else None,
                arrivals[ident].at_s if ident in arrivals else None,
            ]
            for ident, sent, acked in zip(record.ids, record.sent, record.acked, strict=True)
        ]
    target.write_bytes(orjson.dumps(rows))


def _print_logs(folder: Path) -> None:
    """The end of every process's log, for a run that failed."""
    for log in sorted(folder.glob("*.log")):
        print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}", file=sys.stderr)


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="regpipe-bench-e2e-") as tmp:
        kafka = KafkaServer(Path(tmp) / "kafka", heap="768m")
        await kafka.astart()
        pipeline = _Pipeline(kafka.bootstrap_servers, Path(tmp))
        pipeline.broker_pid = _broker_pid(kafka.data_dir)
        try:
            await ensure_topics(kafka.bootstrap_servers)
            await pipeline.start()
            # Long enough for the broker's JIT and every service's first-record paths, which would otherwise be
            # charged to the first step's CPU and latency.
            warmup = await _step(pipeline, 100, 15, 0, 0)
            expected = warmup["expected_after"]
            if pipeline.arrived() < expected:
                raise BenchmarkError(
                    f"the warm-up events never reached the public topic ({pipeline.arrived()} of {expected})"
                )
            steps: list[dict[str, Any]] = []
            for seed, rate in enumerate(args.rates, start=1):
                steps.append(await _step(pipeline, rate, args.seconds, seed, expected))
                expected = steps[-1]["expected_after"]
            sustain: list[dict[str, Any]] = []
            for rate in args.sustain_rates:
                sustain.append(await _step(pipeline, rate, args.sustain_seconds, 100 + len(sustain), expected))
                expected = sustain[-1]["expected_after"]
                verdict = analyse(sustain[-1]["record"], pipeline.arrivals(), {}, {})
                print(f"  sustained: {verdict['sustained']} (lag growth {verdict['lag']['growth_over_window']})")
                if not verdict["sustained"]:
                    break
            peak_rss = pipeline.peak_rss_mib()
            arrivals = pipeline.arrivals()
            raw_ts = await _timestamps(kafka.bootstrap_servers, Topic.RAW, "provider-event-id")
            normalized_ts = await _timestamps(kafka.bootstrap_servers, Topic.NORMALIZED, "ce_providereventid")
        except BenchmarkError:
            _print_logs(Path(tmp))
            raise
        finally:
            await pipeline.stop()
            await kafka.astop()
    load_after = os.getloadavg()

    def figures(step: dict[str, Any]) -> dict[str, Any]:
        extra = {k: v for k, v in step.items() if k not in ("record", "expected_after")}
        return {**analyse(step["record"], arrivals, raw_ts, normalized_ts), **extra}

    if args.dump is not None:
        _dump(args.dump, [*steps, *sustain], arrivals, raw_ts, normalized_ts)
    sustain_figures = [figures(step) for step in sustain]
    passed = [s["rate"] for s in sustain_figures if s["sustained"]]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kafka": KAFKA_VERSION,
            "load_average_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        },
        "webhooks": "signed single-event Most notices (one canonical event each), a new provider event id each",
        "latency_steps": [figures(step) for step in steps],
        "sustain_steps": sustain_figures,
        "sustained_per_s": max(passed) if passed else None,
        "peak_rss_mib": peak_rss,
        "targets": _TARGETS,
    }


def _row(step: dict[str, Any]) -> str:
    lat, st = step["latency_ms"], step["stages_ms"]
    cpu = step["cpu_us_per_event"]
    return (
        f"| {step['rate']:g} | {step['seconds']:g} | {step['accepted']} | {step['not_on_public_topic']} | "
        f"{lat['p50']} | {lat['p99']} | {step['receiver_answer_ms']['p99']} | "
        f"{st['receiver']['p50']} / {st['normalizer']['p50']} / {st['deduplicator']['p50']} / "
        f"{st['commit_and_read']['p50']} | {step['lag']['max']} | {step['lag']['growth_over_window']} | "
        f"{'yes' if step['sustained'] else 'no'} | {cpu['webhook_receiver']} / {cpu['normalizer']} / "
        f"{cpu['deduplicator']} / {cpu.get('broker', '-')} | {step['machine_cpu_busy']:.0%} | "
        f"{step['load_average_1m_before_after'][0]} |\n"
    )


def _summary(results: dict[str, Any]) -> str:
    machine = results["machine"]
    head = (
        "| rate /s | s | accepted | missing | p50 ms | p99 ms | answer p99 ms | stage p50 ms: receiver / normalizer / "
        "deduplicator / commit+read | max lag | lag growth | sustained | CPU us/event: receiver / normalizer / "
        "deduplicator / broker | machine busy | load before |\n" + "|---" * 15 + "|\n"
    )
    rss = ", ".join(f"{name} {mib} MiB" for name, mib in results["peak_rss_mib"].items())
    return (
        "# End-to-end benchmark\n\n"
        f"{results['date']}: {machine['cpus']} CPUs shared by the broker, the three services, the sender and the "
        f"reader (1-minute load average {machine['load_average_1m_before_after'][0]} before, "
        f"{machine['load_average_1m_before_after'][1]} after), Python {machine['python']}, Kafka {machine['kafka']}. "
        f"Webhooks: {results['webhooks']}. Latency: POST sent -> event readable read_committed.\n\n"
        "## Latency steps\n\n" + head + "".join(_row(s) for s in results["latency_steps"]) + "\n"
        "## Sustained rate (a minute a step, until the backlog grows)\n\n"
        + head
        + "".join(_row(s) for s in results["sustain_steps"])
        + f"\nHighest rate sustained: **{results['sustained_per_s']}/s**. Peak RSS: {rss}.\n"
    )


def main() -> None:
    """Parse arguments, run, write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--sustain-rates",
        type=float,
        nargs="*",
        default=[250, 500, 750, 1000, 1500, 2000, 2500, 3000, 3500],
        help="in order; stops after the first one not sustained",
    )
    parser.add_argument("--sustain-seconds", type=float, default=60)
    parser.add_argument("--out", default="end_to_end", help="results file name (without extension)")
    parser.add_argument("--dump", type=Path, help="also write every webhook's timestamps here (for a closer look)")
    args = parser.parse_args()
    try:
        results = asyncio.run(_bench(args))
    except BenchmarkError as failed:
        sys.exit(f"end-to-end benchmark could not run: {failed}")
    _RESULTS.mkdir(parents=True, exist_ok=True)
    (_RESULTS / f"{args.out}.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    (_RESULTS / f"{args.out}.md").write_text(_summary(results))
    print(_summary(results))


if __name__ == "__main__":
    main()
