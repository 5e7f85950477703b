"""Decoding a raw body as JSON, the first step of every JSON provider mapper."""

from __future__ import annotations

import orjson
from pydantic import JsonValue

from regpipe.providers.kit.document_limits import check_nesting
from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["decode_json", "decode_json_object"]


def decode_json(body: bytes) -> JsonValue:
    """The JSON document of `body`; `INVALID_JSON` otherwise, `NESTING_TOO_DEEP` beyond the kit's nesting limit."""
    try:
        document: JsonValue = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson's message gives the position and the kind of error, never the input itself.
        raise MappingError(QuarantineReason.INVALID_JSON, f"body is not JSON: {exc}") from exc
    check_nesting(document)
    return document


def decode_json_object(body: bytes) -> dict[str, JsonValue]:
    """The JSON object of `body`; `INVALID_JSON` when it is not JSON or not an object."""
    document = decode_json(body)
    if not isinstance(document, dict):
        raise MappingError(QuarantineReason.INVALID_JSON, "body is not a JSON object")
    return document
