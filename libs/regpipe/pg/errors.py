"""Exceptions of the `regpipe.pg` package (the tree is drawn in the package docstring)."""

from __future__ import annotations

__all__ = ["MigrationError", "PgError"]


class PgError(Exception):
    """Base class: something this package could not do with PostgreSQL."""


class MigrationError(PgError):
    """A migration file is malformed or duplicated, or applying it failed (its transaction rolled back)."""
