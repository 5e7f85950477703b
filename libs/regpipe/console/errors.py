"""Errors of the console's data sources, each answered with its own page.

ConsoleError
├── SourceUnavailableError   a service the console reads from did not answer (502 page)
├── SourceNotFoundError      it knows nothing under that id (404 page)
└── SourceRefusedError       it refused the request: bad parameter, or the console's token (400 page)
"""

from __future__ import annotations

__all__ = ["ConsoleError", "SourceNotFoundError", "SourceRefusedError", "SourceUnavailableError"]


class ConsoleError(Exception):
    """Base of the console's errors."""


class SourceUnavailableError(ConsoleError):
    """The read API, the admin API or the broker could not be reached."""


class SourceNotFoundError(ConsoleError):
    """Nothing is known under the id asked for."""


class SourceRefusedError(ConsoleError):
    """The source refused the request (its message is shown)."""
