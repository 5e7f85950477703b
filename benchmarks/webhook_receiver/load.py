"""The load generator, a process of its own: raw HTTP/1.1 keep-alive connections on uvloop, requests built once.

    python -m benchmarks.webhook_receiver.load --port P --secret whsec_… --mode max --connections 64 --seconds 15
    python -m benchmarks.webhook_receiver.load --port P --secret whsec_… --mode rate --rate 1000 --seconds 15

`max` is a closed loop (each connection sends its next request once the answer came): the highest sustained
rate of 202s. `rate` is an open loop at a fixed rate, latency measured from when each request was due (so a
stalled server cannot hide its queueing: no coordinated omission). Requests are real signed Most webhooks from
the simulator, cycled from a pool. Prints `measure` and `stop` lines around the measured window, then one JSON
object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import orjson
import uvloop

from regpipe.simulators.most import generate
from regpipe.webhooks.standard_webhooks import signature_headers

_POOL = 4000
_MAX_CONNECTIONS = 512


def _requests(host: str, port: int, path: str, secret: str) -> list[bytes]:
    requests = []
    for event in generate(random.Random(1), _POOL):
        headers = {
            "Host": f"{host}:{port}",
            "Content-Type": "application/json",
            "Content-Length": str(len(event.body)),
            **signature_headers([secret], event.event_id, event.body),
        }
        head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        requests.append(head.encode() + event.body)
    return requests


@dataclass
class _Stats:
    measuring: bool = False
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0
    per_second: dict[int, list[float]] = field(default_factory=dict)

    def record(self, status: int, started: float, finished: float) -> None:
        if self.measuring:
            self.statuses[status] += 1
            self.latencies_ms.append((finished - started) * 1000)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> tuple[int, bool]:
        """Send one request, read the answer; returns the status and whether the connection stays open."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lowered = head.lower()
        length = 0
        at = lowered.find(b"content-length:")
        if at >= 0:
            length = int(lowered[at + 15 : lowered.index(b"\r\n", at)])
        if length:
            await self.reader.readexactly(length)
        return status, b"connection: close" not in lowered

    def close(self) -> None:
        self.writer.close()


async def _closed_loop(args: argparse.Namespace, requests: list[bytes], stats: _Stats, stop_at: float) -> None:
    index = random.randrange(len(requests))
    connection = await _Connection.open(args.host, args.port)
    while time.perf_counter() < stop_at:
        index = (index + 1) % len(requests)
        started = time.perf_counter()
        try:
            status, keep = await connection.exchange(requests[index])
        except (OSError, asyncio.IncompleteReadError):
            stats.failures += 1
            connection.close()
            connection = await _Connection.open(args.host, args.port)
            continue
        stats.record(status, started, time.perf_counter())
        if not keep:
            connection.close()
            connection = await _Connection.open(args.host, args.port)
    connection.close()


async def _open_loop(args: argparse.Namespace, requests: list[bytes], stats: _Stats, stop_at: float) -> None:
    # First in, first out: every pooled connection is used in turn, so none idles past the server's keep-alive.
    idle: deque[_Connection] = deque([await _Connection.open(args.host, args.port) for _ in range(args.connections)])
    opened = len(idle)
    tasks: set[asyncio.Task[None]] = set()

    async def one(connection: _Connection, request: bytes, due: float) -> None:
        try:
            status, keep = await connection.exchange(request)
        except (OSError, asyncio.IncompleteReadError):
            # The server closed a kept-alive connection: like any HTTP client, send again on a new one (the
            # latency still counts from when the request was due).
            connection.close()
            try:
                connection = await _Connection.open(args.host, args.port)
                status, keep = await connection.exchange(request)
            except (OSError, asyncio.IncompleteReadError):
                stats.failures += 1
                connection.close()
                return
        finished = time.perf_counter()
        stats.record(status, due, finished)
        if stats.measuring:
            stats.per_second.setdefault(int(due), []).append((finished - due) * 1000)
        if keep:
            idle.append(connection)
        else:
            connection.close()

    interval = 1.0 / args.rate
    next_due = time.perf_counter()
    sent = 0
    while next_due < stop_at:
        now = time.perf_counter()
        while next_due <= now:
            if not idle:
                if opened >= _MAX_CONNECTIONS:
                    stats.failures += 1  # the server is this far behind: count the request as failed
                    next_due += interval
                    continue
                idle.append(await _Connection.open(args.host, args.port))
                opened += 1
            task = asyncio.create_task(one(idle.popleft(), requests[sent % len(requests)], next_due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
            next_due += interval
        await asyncio.sleep(max(0.0, next_due - time.perf_counter()))
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    for connection in idle:
        connection.close()


def _mark(phase: str) -> None:
    """Tell the orchestrator the measured window starts or ends (it samples the server's CPU time then)."""
    sys.stdout.write(phase + "\n")
    sys.stdout.flush()


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _run(args: argparse.Namespace) -> dict[str, object]:
    requests = _requests(args.host, args.port, args.path, args.secret)
    stats = _Stats()
    begin = time.perf_counter()
    measure_from = begin + args.warmup
    stop_at = measure_from + args.seconds
    if args.mode == "max":
        workers = [_closed_loop(args, requests, stats, stop_at) for _ in range(args.connections)]
    else:
        workers = [_open_loop(args, requests, stats, stop_at)]
    runner = asyncio.gather(*workers)
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    stats.measuring = True
    _mark("measure")
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
    stats.measuring = False
    _mark("stop")
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    await runner
    ordered = sorted(stats.latencies_ms)
    accepted = stats.statuses.get(202, 0)
    return {
        "mode": args.mode,
        "connections": args.connections,
        "target_rate": args.rate if args.mode == "rate" else None,
        "seconds": args.seconds,
        "accepted": accepted,
        "accepted_per_s": round(accepted / args.seconds, 1),
        "statuses": {str(status): count for status, count in sorted(stats.statuses.items())},
        "transport_failures": stats.failures,
        "latency_ms": {
            "p50": round(_percentile(ordered, 0.50), 2),
            "p90": round(_percentile(ordered, 0.90), 2),
            "p99": round(_percentile(ordered, 0.99), 2),
            "max": round(ordered[-1], 2) if ordered else None,
        },
        # Open loop only: in how many one-second slices the p99 passed 50 ms (one stall, or a steady drift?).
        "seconds_with_p99_over_50ms": sum(
            1 for slice_ in stats.per_second.values() if _percentile(sorted(slice_), 0.99) > 50
        ),
        "client_cpu_s": round(cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime, 2),
    }


def main() -> None:
    """Parse arguments, run one load phase, print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/webhooks/most")
    parser.add_argument("--secret", required=True, help="the Most Standard Webhooks secret (whsec_…)")
    parser.add_argument("--mode", choices=("max", "rate"), required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    sys.stdout.write(orjson.dumps(uvloop.run(_run(args))).decode() + "\n")


if __name__ == "__main__":
    main()
