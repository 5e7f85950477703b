"""Logs, metrics and secret redaction shared by every service."""

from regpipe.observability.logging import configure_logging, get_logger
from regpipe.observability.redaction import REDACTED, SECRET_KEYS, redact, redact_text

__all__ = ["REDACTED", "SECRET_KEYS", "configure_logging", "get_logger", "redact", "redact_text"]
