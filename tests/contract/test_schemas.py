"""The committed JSON Schemas under docs/schemas: up to date with the models, and every model change backward
compatible with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from regpipe.contract.schemas import INDEX_FILE, compare, generate, load, main, write
from regpipe.contract.taxonomy import EventType

_COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_committed_schemas_are_up_to_date() -> None:
    diff = compare(load(_COMMITTED), generate())
    assert diff.stale == [], "run: python -m regpipe.contract.schemas generate"


def test_models_are_backward_compatible_with_the_committed_schemas() -> None:
    diff = compare(load(_COMMITTED), generate())
    assert diff.breaking == {}


def test_every_event_type_has_a_committed_schema_listed_in_the_index() -> None:
    index = orjson.loads((_COMMITTED / INDEX_FILE).read_bytes())
    assert set(index["types"]) == {t.value for t in EventType}
    for entry in index["types"].values():
        assert (_COMMITTED / entry["file"]).is_file()


def test_personal_data_is_marked_in_the_committed_schemas() -> None:
    registered = (_COMMITTED / "domain.registered.json").read_text()
    verification = (_COMMITTED / "domain.verification.status_changed.json").read_text()
    assert '"x-pii": true' in registered
    assert verification.count('"x-pii": true') == 2


_PERSONAL = {"email", "name", "first_name", "last_name", "profile_picture", "auth_info_delivered_to", "recipient"}


def _properties(node: Any) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            found.append((name, prop))
        for value in node.values():
            found.extend(_properties(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_properties(value))
    return found


def test_every_personal_data_field_of_every_schema_is_marked() -> None:
    checked = 0
    for name, schema in generate().items():
        for prop_name, prop in _properties(schema):
            if prop_name in _PERSONAL and name != "index.json":
                assert prop.get("x-pii") is True, f"{name}: {prop_name} holds personal data but is not marked"
                checked += 1
    assert checked >= 20


def test_a_removed_field_in_a_model_is_reported(tmp_path: Path) -> None:
    committed = load(_COMMITTED)
    current = generate()
    del current["domain.registered.json"]["properties"]["price"]
    diff = compare(committed, current)
    assert diff.breaking == {"domain.registered.json": ["$.price: field removed"]}
    assert "domain.registered.json" in diff.stale


def test_a_removed_event_type_is_reported() -> None:
    current = generate()
    del current["domain.transit.json"]
    assert "domain.transit.json" in compare(load(_COMMITTED), current).breaking


def test_generate_refuses_breaking_changes_and_check_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    schemas = generate()
    # A committed schema with a field the model no longer has: the model change removed it.
    schemas["domain.created.json"]["properties"]["legacy"] = {"type": "string"}
    write(tmp_path, schemas)
    before = (tmp_path / "domain.created.json").read_bytes()

    for args in (["generate", "--dir", str(tmp_path)], ["check", "--dir", str(tmp_path)]):
        monkeypatch.setattr("sys.argv", ["schemas", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == 1
    assert (tmp_path / "domain.created.json").read_bytes() == before
    assert "$.legacy: field removed" in capsys.readouterr().err


def test_generate_writes_then_check_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gone.type.json").write_text("{}")
    monkeypatch.setattr("sys.argv", ["schemas", "generate", "--dir", str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1  # a committed schema vanished: a removed type is breaking

    monkeypatch.setattr("sys.argv", ["schemas", "generate", "--dir", str(tmp_path), "--allow-breaking"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    assert not (tmp_path / "gone.type.json").exists()
    assert {p.name for p in tmp_path.glob("*.json")} == set(generate())

    monkeypatch.setattr("sys.argv", ["schemas", "check", "--dir", str(tmp_path), "--against", str(_COMMITTED)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
