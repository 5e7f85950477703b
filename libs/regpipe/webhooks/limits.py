"""How much of the receiver one request may hold, and for how long: a body is read only after its headers
authenticated it as far as they can, and no caller can pin memory or a slot by sending slowly or in bulk."""

from __future__ import annotations

from dataclasses import dataclass

from regpipe.webhooks.errors import WebhookConfigError

__all__ = ["BodyLimits"]


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Per worker process: at most `max_concurrent` bodies being read at once (503 + Retry-After beyond), each at
    most `max_bytes` long (413) and read in full within `read_timeout_s` (408)."""

    max_bytes: int
    max_concurrent: int = 64
    read_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.max_concurrent <= 0 or self.read_timeout_s <= 0:
            raise WebhookConfigError("body limits must be positive")
