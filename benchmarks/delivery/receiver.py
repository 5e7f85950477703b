"""The benchmark's subscriber endpoint, in its own process: answers 204 at once and remembers when each
`webhook-id` arrived (wall clock, comparable with the producing process on the same machine).

`python -m benchmarks.delivery.receiver PORT`; `GET /arrivals` returns `[[webhook-id, unix time], ...]`,
`POST /reset` forgets them.
"""

from __future__ import annotations

import sys
import time

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_arrivals: list[tuple[str, float]] = []


async def _hook(request: Request) -> Response:
    await request.body()
    _arrivals.append((request.headers.get("webhook-id", ""), time.time()))
    return Response(status_code=204)


async def _list(_: Request) -> Response:
    return Response(orjson.dumps(_arrivals), media_type="application/json")


async def _reset(_: Request) -> Response:
    _arrivals.clear()
    return Response(status_code=204)


app = Starlette(
    routes=[
        Route("/hook", _hook, methods=["POST"]),
        Route("/arrivals", _list, methods=["GET"]),
        Route("/reset", _reset, methods=["POST"]),
    ]
)


def main() -> None:
    """Serve on 127.0.0.1:PORT."""
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
