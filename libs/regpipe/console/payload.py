"""Showing event payloads: indented JSON text (escaped by the template like any other text)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["pretty_json"]


def pretty_json(value: Any) -> str:
    """`value` as indented JSON, keys sorted (the template escapes it: provider fields are text, never markup)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
