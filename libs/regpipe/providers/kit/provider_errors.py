"""Reading a provider's error value (a message, or an object with a code and a message) as a `ProviderError`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import JsonValue

from regpipe.contract.events.base import ProviderError

__all__ = ["provider_error"]


def provider_error(
    value: str | Mapping[str, JsonValue] | None,
    *,
    code_keys: Sequence[str] = ("code",),
    detail_keys: Sequence[str] = ("message", "detail"),
) -> ProviderError | None:
    """The error `value` as a `ProviderError`: text is the detail; of an object, the first present key of
    `code_keys` is the code and of `detail_keys` the detail (each as text); None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return ProviderError(detail=value)
    code = _first(value, code_keys)
    detail = _first(value, detail_keys)
    return ProviderError(code=None if code is None else str(code), detail=None if detail is None else str(detail))


def _first(value: Mapping[str, JsonValue], keys: Sequence[str]) -> JsonValue:
    return next((value[key] for key in keys if key in value), None)
