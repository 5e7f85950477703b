"""Limits on the shape of a decoded payload, checked without recursion, and the translation of the errors that
hostile shapes raise deep inside a parser into quarantine reasons.

A payload nested thousands of levels deep (orjson reads 1,024) would make any recursive walk raise
`RecursionError`, and the encoder of canonical events refuses more than 255; an integer of 4,300+ digits makes
Python's own `int()` raise a plain `ValueError`. None of these is a mapper bug: they are records to set aside.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar

import orjson

from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput

__all__ = ["MAX_NESTING", "check_nesting", "hostile_shapes_quarantined", "quarantines_hostile_shapes"]

#: Deepest nesting of objects and arrays a payload may have; real provider payloads use fewer than ten levels,
#: and a canonical event adds a few (data.provider_fields.envelope...) below the encoder's limit of 255.
MAX_NESTING: Final = 64

# CPython's message for an integer text beyond `sys.get_int_max_str_digits()` (4,300 by default), and orjson's
# for a value nested beyond what it encodes: the exception types alone are too broad to tell them apart.
_DIGIT_LIMIT_MESSAGE: Final = "Exceeds the limit"
_ENCODER_DEPTH_MESSAGE: Final = "Recursion limit reached"

_Result = TypeVar("_Result")
_CONTAINERS: Final = (dict, list, tuple)
_Container = dict[Any, Any] | list[Any] | tuple[Any, ...]


def check_nesting(value: object, *, limit: int = MAX_NESTING) -> None:
    """`NESTING_TOO_DEEP` when `value` nests objects/arrays deeper than `limit`; an iterative walk (no recursion).

    Walked a level at a time, keeping only the containers of the next level: scalars (most of a payload) are
    looked at once, by a comprehension, rather than pushed and popped one by one.
    """
    level: list[_Container] = [value] if isinstance(value, _CONTAINERS) else []
    depth = 1
    while level:
        if depth > limit:
            raise MappingError(QuarantineReason.NESTING_TOO_DEEP, f"payload nested deeper than {limit} levels")
        below: list[_Container] = []
        for container in level:
            children = container.values() if isinstance(container, dict) else container
            below.extend([child for child in children if isinstance(child, _CONTAINERS)])
        level = below
        depth += 1


@contextmanager
def hostile_shapes_quarantined() -> Iterator[None]:
    """Turn the errors of pathological input raised inside a parser into `MappingError`s with their reasons."""
    try:
        yield
    except RecursionError:
        raise MappingError(QuarantineReason.NESTING_TOO_DEEP, "payload nested too deeply to read") from None
    except orjson.JSONEncodeError as exc:
        if str(exc) == _ENCODER_DEPTH_MESSAGE:
            raise MappingError(QuarantineReason.NESTING_TOO_DEEP, "event nested too deeply to encode") from None
        raise
    except ValueError as exc:
        if type(exc) is ValueError and str(exc).startswith(_DIGIT_LIMIT_MESSAGE):
            raise MappingError(QuarantineReason.NUMBER_TOO_LARGE, "an integer with too many digits") from None
        raise


def quarantines_hostile_shapes(map_record: Callable[[RawInput], _Result]) -> Callable[[RawInput], _Result]:
    """Decorate a mapper's `map_record` with `hostile_shapes_quarantined`."""

    @functools.wraps(map_record)
    def guarded(raw: RawInput) -> _Result:
        with hostile_shapes_quarantined():
            return map_record(raw)

    return guarded
