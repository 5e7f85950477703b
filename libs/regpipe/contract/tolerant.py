"""Tolerant reading of event data written by a newer producer: fields this version does not know are dropped.

The data models refuse unknown fields, so a mapper cannot smuggle one in; but a consumer on an older version of
this package must still read events that carry a field added since (adding an optional field is a compatible
change, `docs/schemas` checks it). Reading goes through `known_fields` first.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

__all__ = ["known_fields"]


def known_fields(model: type[BaseModel], value: Any) -> Any:
    """`value` with every key unknown to `model` (at any depth of nested models) removed."""
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in value:
            kept[key] = _known_by_annotation(field.annotation, value[key])
        elif name in value:
            kept[name] = _known_by_annotation(field.annotation, value[name])
    return kept


def _known_by_annotation(annotation: Any, value: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return known_fields(annotation, value)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, tuple, set, frozenset) and args and isinstance(value, list):
        return [_known_by_annotation(args[0], item) for item in value]
    if origin in (typing.Union, types.UnionType):
        # `Model | None`: a dict can only be the model member.
        models = [arg for arg in args if isinstance(arg, type) and issubclass(arg, BaseModel)]
        if len(models) == 1 and isinstance(value, dict):
            return known_fields(models[0], value)
    if origin is typing.Annotated and args:
        return _known_by_annotation(args[0], value)
    return value
