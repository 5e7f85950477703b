"""The schema compatibility checker, fed with old/new schema pairs."""

from __future__ import annotations

from typing import Any

import pytest

from regpipe.contract.compatibility import breaking_changes


def _obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], **extra}


_OPT_STR = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
_BASE = _obj({"domain": {"type": "string"}, "note": _OPT_STR}, ["domain"])


def test_identical_schemas_are_compatible() -> None:
    assert breaking_changes(_BASE, _BASE) == []


def test_adding_an_optional_field_is_compatible() -> None:
    new = _obj({"domain": {"type": "string"}, "note": _OPT_STR, "extra": _OPT_STR}, ["domain"])
    assert breaking_changes(_BASE, new) == []


def test_removing_a_field_is_breaking() -> None:
    new = _obj({"domain": {"type": "string"}}, ["domain"])
    assert breaking_changes(_BASE, new) == ["$.note: field removed"]


def test_a_new_required_field_is_breaking() -> None:
    new = _obj({"domain": {"type": "string"}, "note": _OPT_STR, "id": {"type": "string"}}, ["domain", "id"])
    assert breaking_changes(_BASE, new) == ["$.id: field is now required"]


def test_making_an_optional_field_required_is_breaking() -> None:
    new = _obj({"domain": {"type": "string"}, "note": {"type": "string"}}, ["domain", "note"])
    problems = breaking_changes(_BASE, new)
    assert "$.note: field is now required" in problems
    assert any(p.startswith("$.note: type changed") for p in problems)  # null no longer allowed


def test_making_a_required_field_optional_is_compatible() -> None:
    new = _obj({"domain": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "note": _OPT_STR})
    assert breaking_changes(_BASE, new) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"type": "string"}, {"type": "integer"}),
        ({"type": "number"}, {"type": "integer"}),
        ({"type": "string"}, {"type": "object", "properties": {}}),
        ({"type": "array", "items": {"type": "string"}}, {"type": "string"}),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "string"}),
        ({}, {"type": "string"}),
    ],
)
def test_a_changed_or_narrowed_type_is_breaking(old: dict[str, Any], new: dict[str, Any]) -> None:
    problems = breaking_changes(_obj({"f": old}), _obj({"f": new}))
    assert problems
    assert problems[0].startswith("$.f: type changed")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"type": "integer"}, {"type": "number"}),
        ({"type": "string"}, {"anyOf": [{"type": "string"}, {"type": "null"}]}),
        ({"type": "string"}, {}),
        ({"type": "string", "format": "date-time"}, {"type": "string"}),
        ({"type": "string", "minLength": 3}, {"type": "string", "minLength": 1}),
    ],
)
def test_a_widened_type_is_compatible(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert breaking_changes(_obj({"f": old}), _obj({"f": new})) == []


def test_a_narrowed_enum_is_breaking() -> None:
    old = _obj({"s": {"enum": ["a", "b", "c"], "type": "string"}})
    new = _obj({"s": {"enum": ["a", "b"], "type": "string"}})
    assert breaking_changes(old, new) == ["$.s: allowed values narrowed: ['a', 'b', 'c'] -> ['a', 'b']"]


def test_a_widened_enum_is_compatible() -> None:
    old = _obj({"s": {"enum": ["a"], "type": "string"}})
    new = _obj({"s": {"enum": ["a", "b"], "type": "string"}})
    assert breaking_changes(old, new) == []


def test_an_open_string_becoming_an_enum_is_breaking() -> None:
    old = _obj({"s": {"type": "string"}})
    new = _obj({"s": {"enum": ["a"], "type": "string"}})
    assert breaking_changes(old, new)


def test_a_changed_const_is_breaking() -> None:
    old = _obj({"s": {"const": True}})
    new = _obj({"s": {"const": False}})
    assert breaking_changes(old, new)


def test_tightened_constraints_and_new_formats_are_breaking() -> None:
    old = _obj({"n": {"type": "integer"}, "s": {"type": "string"}, "l": {"type": "string", "maxLength": 10}})
    new = _obj(
        {
            "n": {"type": "integer", "minimum": 0},
            "s": {"type": "string", "format": "date-time"},
            "l": {"type": "string", "maxLength": 5},
        }
    )
    assert sorted(breaking_changes(old, new)) == [
        "$.l: maxLength narrowed: 10 -> 5",
        "$.n: minimum narrowed: None -> 0",
        "$.s: format changed: None -> date-time",
    ]


def test_changes_inside_referenced_definitions_are_found() -> None:
    def schema(user: dict[str, Any]) -> dict[str, Any]:
        return {
            **_obj({"user": {"anyOf": [{"$ref": "#/$defs/User"}, {"type": "null"}]}}),
            "$defs": {"User": user},
        }

    old = schema(_obj({"user_id": _OPT_STR, "email": _OPT_STR}))
    new = schema(_obj({"user_id": _OPT_STR}))
    assert breaking_changes(old, new) == ["$.user.email: field removed"]


def test_changes_inside_array_items_are_found() -> None:
    old = _obj({"items": {"type": "array", "items": _obj({"ok": {"type": "boolean"}})}})
    new = _obj({"items": {"type": "array", "items": _obj({"ok": {"type": "string"}})}})
    assert breaking_changes(old, new) == ["$.items[].ok: type changed: ['boolean'] -> ['string']"]


def test_changes_inside_map_values_are_found() -> None:
    old = _obj({"m": {"type": "object", "additionalProperties": {"type": "string"}}})
    new = _obj({"m": {"type": "object", "additionalProperties": {"type": "integer"}}})
    assert breaking_changes(old, new) == ["$.m.*: type changed: ['string'] -> ['integer']"]


def test_recursive_definitions_terminate() -> None:
    node = {"$defs": {"N": _obj({"child": {"anyOf": [{"$ref": "#/$defs/N"}, {"type": "null"}]}})}}
    schema = {**node, "$ref": "#/$defs/N"}
    assert breaking_changes(schema, schema) == []
