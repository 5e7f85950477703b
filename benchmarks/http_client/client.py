"""One benchmark round: a bare httpx client posting `count` bodies to `url`, 8 at a time; prints a JSON line.

`--without-sniffio` makes `import sniffio` fail the way it does when the package is not installed: the import
system scans every `sys.path` entry and finds nothing (the scan is run, then its result dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.machinery
import os
import sys
import time
from typing import Any

import httpx
import orjson

_CONCURRENCY = 8


def _hide_sniffio() -> None:
    original = importlib.machinery.PathFinder.find_spec

    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        spec = original(name, path, target)
        return None if name == "sniffio" else spec

    importlib.machinery.PathFinder.find_spec = staticmethod(find_spec)  # type: ignore[method-assign,assignment]
    sys.modules.pop("sniffio", None)


async def _run(url: str, count: int) -> dict[str, float]:
    body = orjson.dumps({"type": "domain.expiring", "data": {"domain": "example.com", "padding": "x" * 600}})
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=_CONCURRENCY)) as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                answer = await client.post(url, content=body, headers={"content-type": "application/json"})
                answer.raise_for_status()

        await client.post(url, content=body)  # warm the pool
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(_CONCURRENCY)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"requests": count, "seconds": wall, "per_s": count / wall, "client_cpu_us": cpu / count * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--without-sniffio", action="store_true")
    args = parser.parse_args()
    if args.without_sniffio:
        _hide_sniffio()
    result = asyncio.run(_run(args.url, args.count))
    result["sniffio"] = 0.0 if args.without_sniffio else 1.0
    result["pid"] = float(os.getpid())
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
