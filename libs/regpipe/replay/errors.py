"""Errors of the replay and consumer-group tools.

ReplayError
├── RangeError          a topic, partition, offset or time range that does not exist or cannot be read
└── ActiveGroupError    a consumer group that still has members, so its offsets must not be reset
"""

from __future__ import annotations

__all__ = ["ActiveGroupError", "RangeError", "ReplayError"]


class ReplayError(Exception):
    """Base of the replay tools' errors."""


class RangeError(ReplayError):
    """The requested range cannot be resolved or read."""


class ActiveGroupError(ReplayError):
    """The consumer group has active members; stop them before resetting its offsets."""
