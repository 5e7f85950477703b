"""Backward-compatibility rules for the committed JSON Schemas of canonical event data.

A new schema is compatible with an old one when every document valid under the old one keeps its meaning under
the new one: no field removed, no type changed or narrowed, no new required field, no enum value or constraint
narrowed. Adding optional fields, enum values or alternative types is fine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["breaking_changes"]

_Schema = Mapping[str, Any]

# Lower bounds: a larger new value narrows. Upper bounds: a smaller new value narrows.
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
_ANY = "any"


def breaking_changes(old: _Schema, new: _Schema) -> list[str]:
    """Every backward-incompatible difference from `old` to `new`, as readable lines (empty when compatible).

    Both are JSON Schemas as pydantic generates them (local `$ref`s into `$defs`, `anyOf` for unions).
    """
    problems: list[str] = []
    _compare(old, new, "$", _Roots(old, new), problems, frozenset())
    return problems


class _Roots(NamedTuple):
    old: _Schema
    new: _Schema


def _resolve(schema: _Schema, root: _Schema) -> tuple[_Schema, str | None]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema, None
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, Mapping) else {}
    return (target if isinstance(target, Mapping) else {}), ref


def _branches(schema: _Schema, root: _Schema, refs: set[str]) -> list[_Schema]:
    """The alternatives of a union, flattened and resolved; the `$ref`s followed are added to `refs`."""
    resolved, ref = _resolve(schema, root)
    if ref is not None:
        refs.add(ref)
    for key in ("anyOf", "oneOf"):
        if key in resolved:
            out: list[_Schema] = []
            for branch in resolved[key]:
                out.extend(_branches(branch, root, refs))
            return out
    return [resolved]


def _types(branches: list[_Schema]) -> set[str]:
    found: set[str] = set()
    for branch in branches:
        if "const" in branch:
            found.add(_JSON_TYPES.get(type(branch["const"]), _ANY))
        elif "enum" in branch and "type" not in branch:
            found.update(_JSON_TYPES.get(type(v), _ANY) for v in branch["enum"])
        elif "type" in branch:
            declared = branch["type"]
            found.update(declared if isinstance(declared, list) else [declared])
        elif "properties" in branch:
            found.add("object")
        else:
            found.add(_ANY)
    return found


def _enum_values(branches: list[_Schema], json_type: str) -> list[Any] | None:
    """The values allowed for `json_type`, or None when any value of that type is allowed."""
    values: list[Any] = []
    for branch in branches:
        if "const" in branch:
            candidates = [branch["const"]]
        elif "enum" in branch:
            candidates = list(branch["enum"])
        else:
            if _accepts_type(_types([branch]), json_type):
                return None
            continue
        values.extend(v for v in candidates if _accepts_type({_JSON_TYPES.get(type(v), _ANY)}, json_type))
    return values


def _accepts_type(types: set[str], json_type: str) -> bool:
    return _ANY in types or json_type in types or (json_type == "integer" and "number" in types)


def _branch_of(branches: list[_Schema], json_type: str) -> _Schema | None:
    for branch in branches:
        if json_type in _types([branch]):
            return branch
    return None


def _compare(
    old: _Schema, new: _Schema, path: str, roots: _Roots, problems: list[str], seen: frozenset[tuple[str, str]]
) -> None:
    old_refs: set[str] = set()
    new_refs: set[str] = set()
    old_branches = _branches(old, roots.old, old_refs)
    new_branches = _branches(new, roots.new, new_refs)
    if old_refs or new_refs:
        # Recursive models: compare each pair of definitions once along a path.
        key = (",".join(sorted(old_refs)), ",".join(sorted(new_refs)))
        if key in seen:
            return
        seen = seen | {key}
    old_types = _types(old_branches)
    new_types = _types(new_branches)
    if _ANY in new_types:
        return
    lost = sorted(t for t in old_types if not _accepts_type(new_types, t))
    if lost:
        problems.append(f"{path}: type changed: {sorted(old_types)} -> {sorted(new_types)}")
        return
    for json_type in sorted(old_types - {_ANY}):
        old_values = _enum_values(old_branches, json_type)
        new_values = _enum_values(new_branches, json_type)
        if new_values is not None and (old_values is None or any(v not in new_values for v in old_values)):
            problems.append(f"{path}: allowed values narrowed: {old_values or 'any'} -> {new_values}")
        old_branch = _branch_of(old_branches, json_type)
        new_branch = _branch_of(new_branches, json_type) or _branch_of(new_branches, "number")
        if old_branch is None or new_branch is None:
            continue
        _compare_constraints(old_branch, new_branch, path, problems)
        if json_type == "object":
            _compare_objects(old_branch, new_branch, path, roots, problems, seen)
        elif json_type == "array":
            _compare_arrays(old_branch, new_branch, path, roots, problems, seen)


def _compare_constraints(old: _Schema, new: _Schema, path: str, problems: list[str]) -> None:
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            problems.append(f"{path}: {key} narrowed: {old.get(key)} -> {new[key]}")
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            problems.append(f"{path}: {key} narrowed: {old.get(key)} -> {new[key]}")
    for key in ("format", "pattern"):
        if key in new and new.get(key) != old.get(key):
            problems.append(f"{path}: {key} changed: {old.get(key)} -> {new[key]}")


def _compare_objects(
    old: _Schema, new: _Schema, path: str, roots: _Roots, problems: list[str], seen: frozenset[tuple[str, str]]
) -> None:
    old_props: Mapping[str, _Schema] = old.get("properties", {})
    new_props: Mapping[str, _Schema] = new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: field removed")
            continue
        _compare(old_prop, new_props[name], f"{path}.{name}", roots, problems, seen)
    added_required = sorted(set(new.get("required", [])) - set(old.get("required", [])))
    for name in added_required:
        problems.append(f"{path}.{name}: field is now required")
    old_extra = old.get("additionalProperties")
    new_extra = new.get("additionalProperties")
    if isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
        _compare(old_extra, new_extra, f"{path}.*", roots, problems, seen)
    elif isinstance(old_extra, Mapping) and new_extra is False:
        problems.append(f"{path}: additional properties no longer allowed")


def _compare_arrays(
    old: _Schema, new: _Schema, path: str, roots: _Roots, problems: list[str], seen: frozenset[tuple[str, str]]
) -> None:
    old_items = old.get("items")
    new_items = new.get("items")
    if isinstance(old_items, Mapping) and isinstance(new_items, Mapping):
        _compare(old_items, new_items, f"{path}[]", roots, problems, seen)
    elif new_items is not None and old_items is None:
        problems.append(f"{path}[]: item type narrowed")
