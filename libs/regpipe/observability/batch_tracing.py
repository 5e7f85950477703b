"""A FastStream middleware that continues each record's trace through a batch subscriber.

FastStream's own telemetry middleware gives a batch one span in a new trace, linked to its records' traces only
when they carry FastStream's `correlation_id` header (ours do not): an event's trace ended at the aggregator and
at the delivery intake. This one records, around the handling of a batch, one span per record as the child of the
span that published it (the W3C `traceparent` in its Kafka headers), as the aiokafka stages do by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream import BaseMiddleware, ContextRepo, StreamMessage

from regpipe.observability.tracing import continue_each, tracing_enabled

__all__ = ["BatchTraceMiddleware"]

_EVENT_ID_HEADER = "ce_id"  # the CloudEvents binding's id of a canonical event


class BatchTraceMiddleware:
    """Builds, for each batch a subscriber receives, the middleware that records its records' spans as `name`."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __call__(self, msg: Any | None, /, *, context: ContextRepo) -> BaseMiddleware[Any, Any]:
        return _ContinueEachTrace(msg, context=context, name=self._name)


class _ContinueEachTrace(BaseMiddleware[Any, Any]):
    def __init__(self, msg: Any | None, /, *, context: ContextRepo, name: str) -> None:
        super().__init__(msg, context=context)
        self._name = name

    async def consume_scope(self, call_next: Callable[..., Awaitable[Any]], msg: StreamMessage[Any]) -> Any:
        if not tracing_enabled():
            return await call_next(msg)
        raw = msg.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        with continue_each(self._name, ((list(record.headers or ()), _attributes(record)) for record in records)):
            return await call_next(msg)


def _attributes(record: Any) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "messaging.destination.name": record.topic,
        "messaging.kafka.destination.partition": record.partition,
        "messaging.kafka.message.offset": record.offset,
    }
    for key, value in record.headers or ():
        if key == _EVENT_ID_HEADER and value is not None:
            attributes["regpipe.event_id"] = value.decode(errors="replace")
    return attributes
