"""The open-loop sender, a process of its own: signed single-event Most webhooks at a fixed rate on raw HTTP/1.1
keep-alive connections (uvloop), every webhook a new provider event (so the deduplicator publishes each once).

    python -m benchmarks.end_to_end.sender --port P --secret whsec_… --rate 500 --seconds 20 --seed 1 --out F

Open loop: a request goes out when it is due, whether or not earlier ones were answered, so a stalled pipeline
cannot slow the sender down and hide its queueing. Requests are built and signed before the first one is due.
Writes one JSON object to `--out`: per webhook its provider event id, when it was due, sent and answered
(Unix seconds, the clock every process of the benchmark shares) and the HTTP status (0: no answer).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import orjson
import uvloop

from regpipe.providers.most.payloads import MostEventType
from regpipe.simulators.most import build_event
from regpipe.webhooks.standard_webhooks import signature_headers

# Notices map to exactly one canonical event each, so one webhook is one event on the public topic.
_NOTICES = (
    MostEventType.DOMAIN_EXPIRING,
    MostEventType.DOMAIN_DELETING,
    MostEventType.DOMAIN_BLOCKED,
    MostEventType.DOMAIN_COMPLAINT,
    MostEventType.BALANCE_LOW,
)
_MAX_CONNECTIONS = 512


def _webhooks(args: argparse.Namespace) -> tuple[list[str], list[bytes]]:
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    ids: list[str] = []
    requests: list[bytes] = []
    for index in range(round(args.rate * args.seconds)):
        hook = build_event(rng, _NOTICES[index % len(_NOTICES)], now=now)
        headers = {
            "Host": f"{args.host}:{args.port}",
            "Content-Type": "application/json",
            "Content-Length": str(len(hook.body)),
            **signature_headers([args.secret], hook.event_id, hook.body),
        }
        head = f"POST {args.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        ids.append(hook.event_id)
        requests.append(head.encode() + hook.body)
    return ids, requests


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> tuple[int, bool]:
        """Send one request, read the answer: its status and whether the connection stays open."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lowered = head.lower()
        at = lowered.find(b"content-length:")
        length = int(lowered[at + 15 : lowered.index(b"\r\n", at)]) if at >= 0 else 0
        if length:
            await self.reader.readexactly(length)
        return int(head[9:12]), b"connection: close" not in lowered

    def close(self) -> None:
        self.writer.close()


async def _run(args: argparse.Namespace) -> dict[str, object]:
    ids, requests = _webhooks(args)
    count = len(requests)
    due = [0.0] * count
    sent = [0.0] * count
    acked = [0.0] * count
    status = [0] * count
    idle: deque[_Connection] = deque([await _Connection.open(args.host, args.port) for _ in range(args.connections)])
    opened = len(idle)
    tasks: set[asyncio.Task[None]] = set()

    async def one(connection: _Connection, index: int) -> None:
        sent[index] = time.time()
        try:
            code, keep = await connection.exchange(requests[index])
        except (OSError, asyncio.IncompleteReadError):
            # The server closed a kept-alive connection: send again on a new one, as any HTTP client does.
            connection.close()
            try:
                connection = await _Connection.open(args.host, args.port)
                code, keep = await connection.exchange(requests[index])
            except (OSError, asyncio.IncompleteReadError):
                connection.close()
                return
        acked[index] = time.time()
        status[index] = code
        if keep:
            idle.append(connection)
        else:
            connection.close()

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    interval = 1.0 / args.rate
    start = time.time() + 0.2
    index = 0
    while index < count:
        now = time.time()
        while index < count and start + index * interval <= now:
            due[index] = start + index * interval
            if not idle:
                if opened >= _MAX_CONNECTIONS:
                    index += 1  # the receiver is this far behind: the webhook counts as unanswered
                    continue
                idle.append(await _Connection.open(args.host, args.port))
                opened += 1
            task = asyncio.create_task(one(idle.popleft(), index))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            index += 1
        await asyncio.sleep(max(0.0, start + index * interval - time.time()))
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    for connection in idle:
        connection.close()
    return {
        "rate": args.rate,
        "seconds": args.seconds,
        "connections_opened": opened,
        "cpu_s": round(cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime, 2),
        "ids": ids,
        "due": due,
        "sent": sent,
        "acked": acked,
        "status": status,
    }


def main() -> None:
    """Parse arguments, send one step, write its per-webhook record."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/webhooks/most")
    parser.add_argument("--secret", required=True, help="the Most Standard Webhooks secret (whsec_…)")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True, help="distinct per step: event ids must not repeat")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.write_bytes(orjson.dumps(uvloop.run(_run(args))))


if __name__ == "__main__":
    main()
