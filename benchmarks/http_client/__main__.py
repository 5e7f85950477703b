"""The httpx client with and without `sniffio` importable: `python -m benchmarks.http_client [--rounds 3]`.

httpcore asks sniffio which async library runs on every connection-pool lock; when sniffio is missing each
failed import scans `sys.path`. Both variants post the same bodies to the same trivial local server (uvicorn,
a 200 for every POST), alternating rounds in one run. Results: benchmarks/results/http_client.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

from regpipe.stack.ports import free_port

_ROOT = Path(__file__).resolve().parents[2]
_RESULTS = _ROOT / "benchmarks" / "results"
_SERVER = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def _wait_listening(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(url, content=b"{}")
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _round(url: str, count: int, without: bool) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.http_client.client", url, "--count", str(count)]
    if without:
        command.append("--without-sniffio")
    output = subprocess.run(command, check=True, capture_output=True, cwd=_ROOT, text=True).stdout
    result: dict[str, float] = orjson.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    server_dir = Path(tempfile.mkdtemp(prefix="regpipe-bench-"))
    (server_dir / "trivial_server.py").write_text(_SERVER)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "trivial_server:app", "--port", str(port), "--log-level", "warning"],
        cwd=server_dir,
    )
    url = f"http://127.0.0.1:{port}/hook"
    load_before = os.getloadavg()[0]
    rounds: dict[str, list[dict[str, float]]] = {"with": [], "without": []}
    try:
        _wait_listening(url)
        for _ in range(args.rounds):
            rounds["without"].append(_round(url, args.count, without=True))
            rounds["with"].append(_round(url, args.count, without=False))
    finally:
        server.terminate()
        server.wait(timeout=10)
    summary = {
        variant: {
            "per_s": statistics.median(r["per_s"] for r in results),
            "client_cpu_us": statistics.median(r["client_cpu_us"] for r in results),
        }
        for variant, results in rounds.items()
    }
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "requests_per_round": args.count,
        "rounds": rounds,
        "median": summary,
    }
    _RESULTS.mkdir(parents=True, exist_ok=True)
    (_RESULTS / "http_client.json").write_text(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    lines = [
        "# httpx client with and without sniffio importable",
        "",
        f"{report['when']}, {args.rounds} alternating rounds of {args.count} POSTs (8 concurrent) to a trivial "
        f"local server; load {load_before:.2f} before, {report['load_after']:.2f} after.",
        "",
        "| sniffio | requests/s (median) | client CPU per request (us) |",
        "|---|---|---|",
        *(
            f"| {variant} | {values['per_s']:.0f} | {values['client_cpu_us']:.0f} |"
            for variant, values in summary.items()
        ),
        "",
    ]
    (_RESULTS / "http_client.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
