"""Errors of the read queries.

ReadError
├── NotFoundError      no such domain, batch, order, task or transfer (404)
└── BadQueryError      a parameter cannot be understood: cursor, duration, domain name (422)
"""

from __future__ import annotations

__all__ = ["BadQueryError", "NotFoundError", "ReadError"]


class ReadError(Exception):
    """Base of the read queries' errors."""


class NotFoundError(ReadError):
    """Nothing is known under that id."""


class BadQueryError(ReadError):
    """A query parameter is malformed."""
