"""Decoding a raw body as JSON, the first step of every JSON provider mapper."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import JsonValue

from regpipe.providers.kit.document_limits import check_nesting
from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["DecodedObject", "decode_json", "decode_json_object"]

#: A JSON object inside a document `decode_json` returned, as a payload model field: the object's shape is checked
#: (a dict with text keys) and the fields a mapper reads are validated by their own payload models, but its values
#: are not walked once more to prove they are JSON, which orjson already made them (pydantic's `JsonValue` calls a
#: Python discriminator on every value: about 7.5 us per Most or Cold Mail webhook for the envelope's `data` alone).
DecodedObject = dict[str, Any]


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
