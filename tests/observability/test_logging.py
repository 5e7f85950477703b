"""Every log line of a service is one JSON object with secrets redacted: the project's own (structlog) and the
libraries' (httpx, aiokafka, uvicorn through stdlib logging), including secrets inside free text. Each case runs
in a fresh interpreter configured as a service configures itself, and reads what it printed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import orjson
import pytest

from regpipe.observability.redaction import REDACTED, redact_text

_TOKEN = "tok_9f86d081884c7d659a2feaa0c55ad015"  # made up: the test looks for it in the output
_PASSWORD = "Hunter2-Secret"  # made up: the test looks for it in the output


def _log_lines(program: str) -> list[dict[str, Any]]:
    """What `program` printed after `configure_logging("svc")`, one parsed JSON object per line."""
    script = "from regpipe.observability.logging import configure_logging, get_logger\n"
    script += 'configure_logging("svc", "DEBUG")\n' + textwrap.dedent(program)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stderr == ""
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    parsed = [orjson.loads(line) for line in lines]  # raises on any line that is not JSON
    assert all(isinstance(entry, dict) for entry in parsed)
    return parsed


@pytest.mark.parametrize("library", ["httpx", "aiokafka.conn", "uvicorn.error", "asyncpg"])
def test_library_logs_are_json_with_the_service_and_the_same_redaction(library: str) -> None:
    # Before: the libraries' records went to a plain "%(message)s" handler: no JSON, no redaction.
    [entry] = _log_lines(
        f"""
        import logging
        logging.getLogger({library!r}).warning(
            'HTTP Request: POST %s "HTTP/1.1 202 Accepted" password=%s',
            "http://127.0.0.1:8080/webhooks/coldmail/{_TOKEN}",
            "{_PASSWORD}",
        )
        """
    )
    assert entry["logger"] == library
    assert entry["level"] == "warning"
    assert entry["service"] == "svc"
    assert entry["timestamp"]
    assert entry["event"].startswith("HTTP Request: POST http://127.0.0.1:8080/webhooks/coldmail/")
    assert _TOKEN not in entry["event"]
    assert _PASSWORD not in entry["event"]


def test_a_library_exception_is_rendered_in_the_json_line_and_redacted() -> None:
    [entry] = _log_lines(
        f"""
        import logging
        try:
            raise ConnectionError("smtp://mailer:{_PASSWORD}@127.0.0.1:2525 refused")
        except ConnectionError:
            logging.getLogger("aiokafka").exception("connection failed")
        """
    )
    assert entry["event"] == "connection failed"
    assert "ConnectionError" in entry["exception"]
    assert _PASSWORD not in entry["exception"]


def test_project_logs_redact_secret_keys_and_secrets_in_text() -> None:
    [entry] = _log_lines(
        f"""
        get_logger("regpipe.test").info(
            "mapping failed", authInfo="{_PASSWORD}", error="get_auth_info returned code={_PASSWORD}"
        )
        """
    )
    assert entry["authInfo"] == REDACTED
    assert _PASSWORD not in entry["error"]
    assert entry["service"] == "svc"


def test_library_records_below_the_level_are_dropped() -> None:
    lines = _log_lines(
        """
        import logging
        configure_logging("svc", "WARNING")
        logging.getLogger("httpx").info("HTTP Request: GET http://127.0.0.1/readyz")
        logging.getLogger("httpx").warning("kept")
        """
    )
    assert [entry["event"] for entry in lines] == ["kept"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("POST http://127.0.0.1/webhooks/coldmail/tok_abc0123456789?x=1", "tok_abc0123456789"),
        ("smtp://mailer:S3cret@smtp.example:587", "S3cret"),
        ("imaps://bob:pa55w0rd@127.0.0.1:993/INBOX", "pa55w0rd"),
        ("otpauth://totp/acme:bob?secret=JBSWY3DPEHPK3PXP&issuer=acme", "JBSWY3DPEHPK3PXP"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("GET /v1/events?api_key=k-123456&limit=5", "k-123456"),
        ("{'password': 'hunter2', 'user': 'bob'}", "hunter2"),
        ('{"authInfo": "Xy7#2q", "domain": "a.example"}', "Xy7#2q"),
        ('{"credentials": {"user": "bob", "pass": "p4ss"}}', "p4ss"),
        ("auth code refused: code=ABCD1234", "ABCD1234"),
    ],
)
def test_secrets_inside_text_are_redacted(text: str, secret: str) -> None:
    redacted = redact_text(text)
    assert secret not in redacted
    assert REDACTED in redacted


def test_text_without_secrets_is_unchanged() -> None:
    text = "domain.renewed for example.com at 2026-05-01T00:00:00Z, partition 3 offset 17, key most:evt_1"
    assert redact_text(text) == text
    assert redact_text({"nested": [text, 7]}) == {"nested": [text, 7]}


def test_log_lines_and_console_spans_from_other_threads_never_share_a_line() -> None:
    """Spans written by the console exporter's thread land between log lines, never inside one (a log line once
    went out as two writes, text then newline, and a span written between them glued the two together)."""
    lines = _log_lines(
        """
        import os, threading
        os.environ["OTEL_TRACES_EXPORTER"] = "console"
        os.environ["OTEL_BSP_SCHEDULE_DELAY"] = "1"
        os.environ["OTEL_BSP_MAX_QUEUE_SIZE"] = "10000"  # keep every span: the test counts them
        from regpipe.observability.tracing import configure_tracing, shutdown_tracing
        from opentelemetry import trace
        configure_tracing("svc")
        tracer = trace.get_tracer("interleave")
        log = get_logger("interleave")

        def spans():
            for n in range(3000):
                with tracer.start_as_current_span(f"span-{n}"):
                    pass

        worker = threading.Thread(target=spans)
        worker.start()
        for n in range(3000):
            log.info("line", n=n)
        worker.join()
        shutdown_tracing()
        """
    )
    logged = [line["n"] for line in lines if line.get("event") == "line"]
    spans = [line["name"] for line in lines if "context" in line]
    assert logged == list(range(3000))
    assert sorted(spans) == sorted(f"span-{n}" for n in range(3000))
