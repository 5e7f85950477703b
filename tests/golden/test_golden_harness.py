"""The golden harness itself: it fails on a difference, rewrites only when asked, and finds fixture secrets."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from regpipe.providers.most.mapping import map_record
from tests.golden._golden import UPDATE_ENV, check_golden, golden_cases, secret_values

_BODY = {"id": "e1", "type": "domain.expiring", "data": {"domain": "example.com", "checkpoint": 7}}


def _case_dir(tmp_path: Path, expected: object | None) -> Path:
    directory = tmp_path / "most"
    directory.mkdir()
    (directory / "one.input.json").write_bytes(orjson.dumps(_BODY))
    if expected is not None:
        (directory / "one.expected.json").write_bytes(orjson.dumps(expected))
    return directory


def test_a_differing_expectation_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    [case] = golden_cases(_case_dir(tmp_path, {"events": []}))
    with pytest.raises(AssertionError):
        check_golden(case, map_record)


def test_an_expected_error_that_does_not_happen_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    [case] = golden_cases(_case_dir(tmp_path, {"error": "invalid_json"}))
    with pytest.raises(AssertionError):
        check_golden(case, map_record)


def test_a_missing_expectation_is_written_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    [case] = golden_cases(_case_dir(tmp_path, None))
    with pytest.raises(AssertionError, match="was missing"):
        check_golden(case, map_record)
    assert check_golden(case, map_record)[0].subject == "example.com"


def test_update_mode_rewrites_the_expectation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [case] = golden_cases(_case_dir(tmp_path, {"events": []}))
    monkeypatch.setenv(UPDATE_ENV, "1")
    check_golden(case, map_record)
    monkeypatch.delenv(UPDATE_ENV)
    [event] = check_golden(case, map_record)
    assert event.provider_event_id == "e1"
    assert case.raw_input().headers.source.value == "most"


def test_secret_values_finds_nested_secret_fields() -> None:
    body = orjson.dumps({"a": [{"appPassword": "x y"}, {"authInfo": "Q!"}], "password": 12, "email": "not@secret"})
    assert secret_values(body) == {"x y", "Q!", "12"}
    assert secret_values(b"not json") == set()
