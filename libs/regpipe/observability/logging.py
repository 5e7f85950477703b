"""JSON logs for every service: structlog rendering one JSON object a line, with secrets redacted.

The libraries' own logs (httpx, aiokafka, uvicorn, asyncpg, ...) go through the same renderer and the same
redaction: a stdlib handler on the root logger formats their records with structlog's `ProcessorFormatter`, so
no plain-text line (e.g. httpx's "HTTP Request: POST <url>", whose URL may hold a path token) bypasses either.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog
from structlog.typing import Processor

from regpipe.observability.redaction import redact, redact_text

__all__ = ["configure_logging", "get_logger"]


def _redact_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Secret-named keys at any depth, then secrets inside free text (URLs, `key=value`, bearer tokens)."""
    redacted: MutableMapping[str, Any] = redact_text(redact(dict(event_dict)))
    return redacted


def _dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default).decode()


def _tag_service(service: str) -> Processor:
    # Not only from contextvars: a library may log from a thread or a task that never saw them bound.
    def add_service(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route structlog and stdlib logging (the libraries') to stdout as JSON lines tagged with `service`."""
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _tag_service(service),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    rendering: list[Processor] = [
        structlog.processors.format_exc_info,
        _redact_processor,
        structlog.processors.JSONRenderer(serializer=_dumps),
    ]
    structlog.configure(
        processors=[*shared, *rendering],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        # One write per line (print() writes the text and the newline apart): a span the console exporter writes
        # from its own thread then lands between two lines, never inside one.
        logger_factory=structlog.WriteLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # A library record arrives as a stdlib LogRecord: its message becomes `event`, its name `logger`.
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    for previous in root.handlers[:]:
        root.removeHandler(previous)
        previous.close()
    root.addHandler(handler)
    root.setLevel(numeric_level)
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> Any:
    """A structlog logger bound to `name` (typed `Any` because structlog's bound loggers are dynamic)."""
    return structlog.get_logger(name)
