"""The JSON Schemas of canonical event data (one per event type) and of the envelope, generated from the models.

`python -m regpipe.contract.schemas generate` writes them to docs/schemas (refusing backward-incompatible changes
unless told to allow them); `... check` exits 1 when the committed files differ from the models or a model
change is not backward compatible (`--against` compares with another copy, e.g. the base branch's).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final

import orjson
import typer

from regpipe.contract.compatibility import breaking_changes
from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events import DATA_MODELS
from regpipe.contract.taxonomy import EventType

__all__ = ["ENVELOPE_FILE", "INDEX_FILE", "SchemaDiff", "compare", "generate", "load", "main", "render", "write"]

ENVELOPE_FILE: Final = "envelope.json"
INDEX_FILE: Final = "index.json"
_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
_DEFAULT_DIR: Final = Path("docs/schemas")


def _file_name(event_type: EventType) -> str:
    return f"{event_type.value}.json"


def _summary(model: type[Any]) -> str:
    doc = inspect.getdoc(model) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def generate() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for every event type's data, the envelope and the index.

    Schemas are in serialization mode: they describe the JSON consumers read (decimals are strings).
    """
    schemas: dict[str, dict[str, Any]] = {}
    index_types: dict[str, dict[str, str]] = {}
    for event_type in EventType:
        model = DATA_MODELS[event_type]
        schema = {
            "$schema": _DIALECT,
            "$id": _file_name(event_type),
            "x-event-type": event_type.value,
            **model.model_json_schema(mode="serialization"),
        }
        schemas[_file_name(event_type)] = schema
        index_types[event_type.value] = {
            "file": _file_name(event_type),
            "model": model.__name__,
            "emitted": _summary(model),
        }
    schemas[ENVELOPE_FILE] = {
        "$schema": _DIALECT,
        "$id": ENVELOPE_FILE,
        **CanonicalEvent.model_json_schema(mode="serialization"),
    }
    schemas[INDEX_FILE] = {
        "description": "Canonical event types and the JSON Schema of each one's `data`; see docs/taxonomy.md.",
        "envelope": ENVELOPE_FILE,
        "types": index_types,
    }
    return schemas


def render(schema: dict[str, Any]) -> bytes:
    """The committed byte form: sorted keys, two-space indent, trailing newline (stable diffs)."""
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def load(directory: Path) -> dict[str, dict[str, Any]]:
    """The committed schemas in `directory`, by file name."""
    loaded: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        loaded[path.name] = orjson.loads(path.read_bytes())
    return loaded


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    """What differs between committed schemas and the models: stale files and backward-incompatible changes."""

    stale: list[str] = field(default_factory=list)
    breaking: dict[str, list[str]] = field(default_factory=dict)

    @property
    def up_to_date(self) -> bool:
        """True when the committed files are byte-identical to what `generate` writes."""
        return not self.stale

    @property
    def compatible(self) -> bool:
        """True when no model change breaks a committed schema."""
        return not self.breaking


def compare(committed: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> SchemaDiff:
    """Compare committed schemas with freshly generated ones.

    A committed event-type schema with no current counterpart (a removed type) is a breaking change.
    """
    stale = sorted(
        name
        for name in committed.keys() | current.keys()
        if name not in committed or name not in current or render(committed[name]) != render(current[name])
    )
    breaking: dict[str, list[str]] = {}
    for name, old in committed.items():
        if name == INDEX_FILE:
            continue
        if name not in current:
            breaking[name] = ["$: schema removed (event type no longer exists)"]
            continue
        problems = breaking_changes(old, current[name])
        if problems:
            breaking[name] = problems
    return SchemaDiff(stale, breaking)


def write(directory: Path, schemas: dict[str, dict[str, Any]]) -> list[str]:
    """Write `schemas` into `directory`, removing schema files no longer generated; returns the files changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed: list[str] = []
    for name, schema in schemas.items():
        path = directory / name
        content = render(schema)
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
            changed.append(name)
    for path in directory.glob("*.json"):
        if path.name not in schemas:
            path.unlink()
            changed.append(path.name)
    return sorted(changed)


_app = typer.Typer(add_completion=False, help="Generate or check the JSON Schemas of canonical events.")


def _report_breaking(diff: SchemaDiff) -> None:
    for name, problems in sorted(diff.breaking.items()):
        for problem in problems:
            typer.echo(f"breaking: {name}: {problem}", err=True)


@_app.command("generate")
def _generate(
    directory: Annotated[Path, typer.Option("--dir", help="Where the committed schemas live.")] = _DEFAULT_DIR,
    allow_breaking: Annotated[bool, typer.Option("--allow-breaking", help="Write incompatible changes.")] = False,
) -> None:
    """Write the schemas; refuse backward-incompatible changes unless --allow-breaking."""
    current = generate()
    diff = compare(load(directory), current) if directory.exists() else SchemaDiff()
    if not diff.compatible and not allow_breaking:
        _report_breaking(diff)
        typer.echo("refusing to write incompatible schemas (use a new event type, or --allow-breaking)", err=True)
        raise typer.Exit(code=1)
    for name in write(directory, current):
        typer.echo(f"wrote {name}")


@_app.command("check")
def _check(
    directory: Annotated[Path, typer.Option("--dir", help="Where the committed schemas live.")] = _DEFAULT_DIR,
    against: Annotated[Path | None, typer.Option("--against", help="Also check against this copy.")] = None,
) -> None:
    """Exit 1 when the committed schemas are stale or a model change is not backward compatible."""
    current = generate()
    diff = compare(load(directory), current)
    failed = False
    if not diff.up_to_date:
        typer.echo(f"stale: {', '.join(diff.stale)} (run: python -m regpipe.contract.schemas generate)", err=True)
        failed = True
    if not diff.compatible:
        _report_breaking(diff)
        failed = True
    if against is not None:
        baseline = compare(load(against), current)
        if not baseline.compatible:
            _report_breaking(baseline)
            failed = True
    if failed:
        raise typer.Exit(code=1)
    typer.echo(f"{len(current)} schemas up to date and backward compatible")


def main() -> None:
    """Command-line entry point."""
    _app()


if __name__ == "__main__":
    main()
