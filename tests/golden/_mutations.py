"""Hypothesis strategies that mutate golden fixture payloads: drop, retype, garble or duplicate fields at any
depth, truncate the bytes, or replace them with random bytes. For fuzzing mappers: every body must either map or
raise `MappingError`."""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import strategies as st

__all__ = ["json_values", "mutated_bodies"]

_Path = tuple[str | int, ...]

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["", "2026-13-45T99:99:99Z", "-1", "NaN", "bad domain!", "xn--", "..", "ü" * 70]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: _Path = ()) -> list[_Path]:
    found: list[_Path] = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _parent(document: Any, path: _Path) -> Any:
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def _mutated_document(draw: st.DrawFn, documents: list[Any]) -> bytes:
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(document)))
        operation = draw(st.sampled_from(["drop", "retype", "garble", "duplicate"]))
        if not path:
            if operation == "retype":
                document = draw(json_values)
            continue
        parent = _parent(document, path)
        key = path[-1]
        if operation == "drop":
            del parent[key]
        elif operation == "retype":
            parent[key] = draw(json_values)
        elif operation == "garble":
            current = parent[key]
            parent[key] = (
                draw(st.text(max_size=30))
                if not isinstance(current, str)
                else current[::-1] + draw(st.text(max_size=5))
            )
        elif isinstance(parent, list) and isinstance(key, int):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[f"{key}{draw(st.text(max_size=3))}"] = copy.deepcopy(parent[key])
    return orjson.dumps(document)


def mutated_bodies(bodies: list[bytes]) -> st.SearchStrategy[bytes]:
    """Bodies derived from `bodies`: structurally mutated JSON, truncated bytes, or random bytes."""
    documents = [orjson.loads(body) for body in bodies if _is_json(body)]
    truncated = st.sampled_from(bodies).flatmap(
        lambda body: st.integers(min_value=0, max_value=max(len(body) - 1, 0)).map(lambda cut: body[:cut])
    )
    return st.one_of(_mutated_document(documents), truncated, st.binary(max_size=200))


def _is_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True
