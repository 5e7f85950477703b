"""Golden-file harness for provider mappers: fixture payloads in, expected canonical events out.

A case in `tests/golden/<provider>/` is `<case>.input.<ext>` (the raw body, byte for byte), an optional
`<case>.headers.json` (the raw record's headers as `RawHeaders` fields, plus an optional `lineage`), and
`<case>.expected.json`: either `{"events": [...]}` (each event as `CanonicalEvent.model_dump(mode="json")`) or
`{"error": "<quarantine reason>"}`. Run the tests with REGPIPE_UPDATE_GOLDEN=1 to rewrite the expectations from
the current mapper (then review the diff).

    CASES = golden_cases(Path(__file__).parent / "most")

    @pytest.mark.parametrize("case", CASES, ids=case_id)
    def test_golden(case: GoldenCase) -> None:
        check_golden(case, map_record)
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.events.base import is_secret_key
from regpipe.contract.raw import RawHeaders
from regpipe.providers.mapper import MapFunction, MappingError, RawInput

__all__ = ["GOLDEN_ROOT", "UPDATE_ENV", "GoldenCase", "case_id", "check_golden", "golden_cases", "secret_values"]

GOLDEN_ROOT = Path(__file__).resolve().parent
UPDATE_ENV = "REGPIPE_UPDATE_GOLDEN"
_INPUT = ".input."
_DEFAULT_RECEIVED_AT = "2026-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class GoldenCase:
    """One fixture: its input body, headers and expectation files."""

    provider: str
    name: str
    input_path: Path
    headers_path: Path
    expected_path: Path

    def body(self) -> bytes:
        """The raw body, exactly as stored."""
        return self.input_path.read_bytes()

    def raw_input(self) -> RawInput:
        """The raw record the mapper sees; missing headers get deterministic defaults."""
        headers: dict[str, Any] = {
            "source": self.provider,
            "transport": "webhook",
            "received_at": _DEFAULT_RECEIVED_AT,
            "content_type": "application/json",
            "ingest_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"golden:{self.provider}:{self.name}")),
        }
        if self.headers_path.exists():
            headers.update(orjson.loads(self.headers_path.read_bytes()))
        lineage = headers.pop("lineage", None)
        return RawInput(
            body=self.body(),
            headers=RawHeaders.model_validate(headers),
            lineage=Lineage.model_validate(lineage) if lineage is not None else None,
        )


def golden_cases(directory: Path) -> list[GoldenCase]:
    """Every case in `directory` (one per `*.input.*` file), sorted by name."""
    cases: list[GoldenCase] = []
    for path in sorted(directory.glob(f"*{_INPUT}*")):
        name = path.name.split(_INPUT, 1)[0]
        cases.append(
            GoldenCase(
                provider=directory.name,
                name=name,
                input_path=path,
                headers_path=directory / f"{name}.headers.json",
                expected_path=directory / f"{name}.expected.json",
            )
        )
    return cases


def case_id(case: GoldenCase) -> str:
    """A readable pytest id."""
    return case.name


def _outcome(case: GoldenCase, map_record: MapFunction) -> dict[str, Any]:
    try:
        events = map_record(case.raw_input())
    except MappingError as exc:
        return {"error": exc.reason.value}
    return {"events": [_dump(event) for event in events]}


def _dump(event: CanonicalEvent) -> Any:
    return orjson.loads(orjson.dumps(event.model_dump(mode="json")))


def check_golden(case: GoldenCase, map_record: MapFunction) -> list[CanonicalEvent]:
    """Map the case and compare with its expectation (or rewrite it when REGPIPE_UPDATE_GOLDEN=1).

    Returns the mapped events (empty for an expected error) so tests can assert more on them.
    """
    actual = _outcome(case, map_record)
    if os.environ.get(UPDATE_ENV) == "1" or not case.expected_path.exists():
        case.expected_path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n")
        if os.environ.get(UPDATE_ENV) != "1":
            raise AssertionError(f"{case.expected_path.name} was missing: written, review it and re-run")
    expected = orjson.loads(case.expected_path.read_bytes())
    assert actual == expected, f"{case.provider}/{case.name}: mapped events differ from {case.expected_path.name}"
    if "error" in actual:
        return []
    return [CanonicalEvent.model_validate(event) for event in actual["events"]]


def secret_values(body: bytes) -> set[str]:
    """String values of every secret-named key in a JSON body (nothing when the body is not JSON)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return set()
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if is_secret_key(key) and isinstance(item, str | int | float) and str(item):
                    found.add(str(item))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    return found
