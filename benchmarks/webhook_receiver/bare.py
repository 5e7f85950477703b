"""The baseline: an ASGI endpoint that reads the body and answers 202 with a JSON body of the receiver's size,
doing nothing else (no authentication, no Kafka). Served like the receiver:

    python -m uvicorn benchmarks.webhook_receiver.bare:app --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

_BODY = b'{"status":"accepted","partition":0,"offset":0}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Drain the request body, answer 202."""
    if scope["type"] != "http":
        return  # lifespan: nothing to start
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 202, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
