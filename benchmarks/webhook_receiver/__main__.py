"""Run the webhook receiver benchmark: `python -m benchmarks.webhook_receiver [--seconds S] [--workers 1 2]`.

Starts a throwaway Kafka broker with the project's stack, then for each worker count serves (a) the receiver
service exactly as production starts it (`python -m regpipe.services.webhook_receiver`, Standard Webhooks
verification, acks=all idempotent producer, default linger) and (b) a bare ASGI endpoint that does nothing
(`benchmarks/webhook_receiver/bare.py`) on the same server (uvicorn, uvloop, httptools). Each is driven from a
separate load process (`benchmarks/webhook_receiver/load.py`): the maximum sustained rate of 202s (closed loop,
best of several connection counts) and the latency at a fixed 1,000 requests/s (open loop). When `wrk` is
installed (Debian package `wrk`: `apt-get install wrk`) its closed-loop figure is recorded too, as a second
opinion from a client that needs less CPU. Every 202 of the receiver is checked against the records Kafka holds.
Results go to benchmarks/results/webhook_receiver.json and webhook_receiver.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from regpipe.kafka import ensure_topics
from regpipe.kafka.topics import TOPICS, Topic
from regpipe.simulators.most import generate
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.kafka_dist import KAFKA_VERSION
from regpipe.stack.ports import free_port
from regpipe.webhooks.standard_webhooks import signature_headers

_ROOT = Path(__file__).resolve().parents[2]
_RESULTS = _ROOT / "benchmarks" / "results"
_TARGET_ACCEPTED_PER_S = 2000
_TARGET_P99_MS = 50.0
_FIXED_RATE = 1000.0
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) of `root` and every process below it (uvicorn's worker processes)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited while we looked
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / _CLK_TCK
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


async def _raw_topic_size(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(Topic.RAW.value, p) for p in range(TOPICS[Topic.RAW].partitions)]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def _start_server(
    target: str, workers: int, port: int, bootstrap: str, secret: str
) -> asyncio.subprocess.Process:
    python = sys.executable
    if target == "receiver":
        command = [python, "-m", "regpipe.services.webhook_receiver"]
    else:
        command = [python, "-m", "uvicorn", "benchmarks.webhook_receiver.bare:app", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", str(workers), "--loop", "uvloop", "--http", "httptools"]
        command += ["--no-access-log", "--lifespan", "off", "--log-level", "warning"]
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "MOST_WEBHOOK_SECRETS": secret,
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_WORKERS": str(workers),
    }
    process = await asyncio.create_subprocess_exec(
        *command, cwd=_ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL
    )
    # Ready: a signed webhook is answered 202 (for the receiver: it is on Kafka).
    event = generate(random.Random(0), 1)[0]
    headers = signature_headers([secret], event.event_id, event.body)
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        while True:
            try:
                answer = await client.post("/webhooks/most", content=event.body, headers=headers)
                if answer.status_code == 202:
                    return process
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline or process.returncode is not None:
                raise RuntimeError(f"{target} did not come up on port {port}")
            await asyncio.sleep(0.2)


async def _stop_server(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _load(server_pid: int, port: int, secret: str, seconds: float, mode: str, connections: int) -> dict[str, Any]:
    """One load phase; adds the server's CPU time over exactly the measured window."""
    command = [sys.executable, "-m", "benchmarks.webhook_receiver.load", "--port", str(port), "--secret", secret]
    command += ["--mode", mode, "--connections", str(connections), "--rate", str(_FIXED_RATE)]
    command += ["--seconds", str(seconds)]
    process = await asyncio.create_subprocess_exec(*command, cwd=_ROOT, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    cpu: dict[str, float] = {}
    result: dict[str, Any] = {}
    async for line in process.stdout:
        if line.strip() in (b"measure", b"stop"):
            cpu[line.strip().decode()] = _tree_cpu_s(server_pid)
        elif line.strip():
            result = orjson.loads(line)
    if await process.wait() != 0 or not result:
        raise RuntimeError(f"the load generator failed ({process.returncode})")
    result["server_cpu_s"] = round(cpu["stop"] - cpu["measure"], 2)
    result["server_cpu_us_per_202"] = round(1e6 * result["server_cpu_s"] / max(1, result["accepted"]), 1)
    return result


async def _wrk(port: int, secret: str, seconds: float, connections: int, workdir: Path) -> dict[str, Any] | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    event = generate(random.Random(2), 1)[0]
    headers = {"Content-Type": "application/json", **signature_headers([secret], event.event_id, event.body)}
    script = workdir / "post.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {orjson.dumps(event.body.decode()).decode()}"]
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    command = [wrk, "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", str(script)]
    process = await asyncio.create_subprocess_exec(
        *command, f"http://127.0.0.1:{port}/webhooks/most", stdout=asyncio.subprocess.PIPE
    )
    text = (await process.communicate())[0].decode()
    total = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    done = re.search(r"(\d+) requests in ([\d.]+)s", text)
    assert done is not None
    failed_share = int(non_2xx.group(1)) / int(done.group(1)) if non_2xx else 0.0
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "connections": connections,
        "accepted_per_s": round(total * (1 - failed_share), 1),
        "non_2xx_share": round(failed_share, 4),
        "latency_p99_ms": round(float(p99.group(1)) * scale[p99.group(2)], 2) if p99 else None,
    }


async def _measure(
    target: str, workers: int, bootstrap: str, secret: str, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    port = free_port()
    process = await _start_server(target, workers, port, bootstrap, secret)
    try:
        runs = []
        for connections in args.connections:
            run = await _load(process.pid, port, secret, args.seconds, "max", connections)
            runs.append(run)
            print(f"  {target} x{workers} max c={connections}: {run['accepted_per_s']}/s", file=sys.stderr)
        fixed = await _load(process.pid, port, secret, args.seconds, "rate", 32)
        print(f"  {target} x{workers} @1000/s: {fixed['latency_ms']}", file=sys.stderr)
        wrk = await _wrk(port, secret, args.seconds, max(args.connections), workdir)
    finally:
        await _stop_server(process)
    best = max(runs, key=lambda run: run["accepted_per_s"])
    return {
        "max_accepted_per_s": best["accepted_per_s"],
        "max_at_connections": best["connections"],
        "max_runs": runs,
        "at_fixed_rate": fixed,
        "wrk_max": wrk,
    }


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    with tempfile.TemporaryDirectory(prefix="regpipe-bench-webhooks-") as tmp:
        broker = KafkaServer(Path(tmp) / "kafka")
        await broker.astart()
        try:
            await ensure_topics(broker.bootstrap_servers)
            results: dict[str, Any] = {}
            for workers in args.workers:
                for target in ("receiver", "bare"):
                    print(f"{target}, {workers} worker(s)", file=sys.stderr)
                    before = await _raw_topic_size(broker.bootstrap_servers)
                    figures = await _measure(target, workers, broker.bootstrap_servers, secret, args, Path(tmp))
                    if target == "receiver":
                        # Every 202 the load generator counted must be a record on Kafka (readiness probes and
                        # unmeasured warm-up requests add more).
                        counted = sum(run["accepted"] for run in figures["max_runs"])
                        counted += figures["at_fixed_rate"]["accepted"]
                        on_kafka = await _raw_topic_size(broker.bootstrap_servers) - before
                        figures["kafka_check"] = {"counted_202": counted, "records_on_kafka": on_kafka}
                        assert on_kafka >= counted, figures["kafka_check"]
                    results[f"{target}_workers_{workers}"] = figures
        finally:
            await broker.astop()
    return results


def _summary(report: dict[str, Any]) -> str:
    lines = [
        "# Webhook receiver benchmark",
        "",
        f"Measured {report['measured_at']} on {report['machine']['cpus']} CPUs (load average before the run: "
        f"{report['machine']['load_average_before']}), Kafka {report['kafka']} on the same machine. "
        f"Produced by `python -m benchmarks.webhook_receiver`; figures in `webhook_receiver.json`.",
        "",
        "| server | workers | max accepted/s (best of connections) | server CPU µs per 202 at max | wrk max/s "
        "| p50 @ 1000/s | p99 @ 1000/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, figures in report["results"].items():
        target, workers = key.split("_workers_")
        fixed = figures["at_fixed_rate"]
        wrk = figures["wrk_max"]["accepted_per_s"] if figures["wrk_max"] else "-"
        best = next(run for run in figures["max_runs"] if run["connections"] == figures["max_at_connections"])
        lines.append(
            f"| {target} | {workers} | {figures['max_accepted_per_s']} (c={figures['max_at_connections']}) "
            f"| {best['server_cpu_us_per_202']} | {wrk} "
            f"| {fixed['latency_ms']['p50']} ms | {fixed['latency_ms']['p99']} ms |"
        )
    lines += ["", "Receiver / bare endpoint:", ""]
    for workers, ratio in report["ratios"].items():
        lines.append(
            f"- {workers} worker(s): max throughput {ratio['max_throughput']:.0%} of bare; "
            f"p99 at 1000/s {ratio['p99_at_fixed_rate_ms']} ms vs bare"
        )
    targets = report["targets"]
    lines += ["", f"Targets: >= {targets['accepted_per_s']} accepted/s, p99 < {targets['p99_ms']} ms at 1000/s:", ""]
    for workers, met in targets["by_workers"].items():
        lines.append(
            f"- {workers} worker(s): throughput {'met' if met['throughput_met'] else 'missed'}, "
            f"latency {'met' if met['latency_met'] else 'missed'}"
        )
    lines += [
        "",
        "wrk repeats one request, so every record has the same key and lands in one partition, where the",
        "idempotent producer keeps one batch in flight at a time: its figure is the receiver's worst case.",
        "The load generator runs on the same two cores as the receiver and the broker, so every figure includes",
        "that contention; a 202 is only sent after Kafka acknowledged the record (acks=all, idempotent producer).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per phase")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, nargs="+", default=[32, 64, 128, 256])
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = asyncio.run(_bench(args))
    ratios = {}
    for workers in args.workers:
        receiver, bare = results[f"receiver_workers_{workers}"], results[f"bare_workers_{workers}"]
        ratios[str(workers)] = {
            "max_throughput": round(receiver["max_accepted_per_s"] / bare["max_accepted_per_s"], 3),
            "p99_at_fixed_rate_ms": f"{receiver['at_fixed_rate']['latency_ms']['p99']} / "
            f"{bare['at_fixed_rate']['latency_ms']['p99']}",
        }
    targets = {
        str(workers): {
            "throughput_met": results[f"receiver_workers_{workers}"]["max_accepted_per_s"] >= _TARGET_ACCEPTED_PER_S,
            "latency_met": results[f"receiver_workers_{workers}"]["at_fixed_rate"]["latency_ms"]["p99"]
            < _TARGET_P99_MS,
        }
        for workers in args.workers
    }
    report = {
        "benchmark": "webhook_receiver",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(v, 2) for v in load_before],
        },
        "kafka": KAFKA_VERSION,
        "seconds_per_phase": args.seconds,
        "fixed_rate_per_s": _FIXED_RATE,
        "results": results,
        "ratios": ratios,
        "targets": {"accepted_per_s": _TARGET_ACCEPTED_PER_S, "p99_ms": _TARGET_P99_MS, "by_workers": targets},
    }
    _RESULTS.mkdir(parents=True, exist_ok=True)
    (_RESULTS / "webhook_receiver.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    (_RESULTS / "webhook_receiver.md").write_text(_summary(report))
    sys.stdout.write(_summary(report))


if __name__ == "__main__":
    main()
