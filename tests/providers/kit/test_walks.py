"""The kit's walks over payloads (nesting check, credential screening, secret withholding) decide what their
straightforward forms decide, on random documents: each was rewritten for speed and must not change a verdict."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, JsonValue

from regpipe.contract.events.base import EventData, withhold_secrets
from regpipe.providers.kit import check_nesting, screen_kept_strings
from regpipe.providers.mapper import MappingError, QuarantineReason

_CREDENTIAL_TEXT = re.compile(r"otpauth://|[a-z][a-z0-9+.-]*://[^\s/@:]*:[^\s/]*@", re.IGNORECASE)
_PIECES = (
    *("a", "Z", "1", "+", ".", "-", ":", "/", "@", " ", "\n", "\t", "://", "imap", "otpauth", "OTPAUTH", "x:y@"),
    *("pw", "é", "\u017f", "\u212a", "https://cdn.example/a.png"),
)
_KEYS = ("name", "value", "password", "authInfo", "app_password", "note", "url", "token", "items", "é")


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randrange(0, 8)))


def _document(rng: random.Random, depth: int) -> Any:
    draw = rng.random()
    if depth <= 0 or draw < 0.4:
        return rng.choice([_text(rng), rng.randrange(-5, 5), None, True, 1.5])
    if draw < 0.7:
        return {rng.choice(_KEYS) + _text(rng)[:2]: _document(rng, depth - 1) for _ in range(rng.randrange(0, 4))}
    return [_document(rng, depth - 1) for _ in range(rng.randrange(0, 4))]


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list | tuple):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _refusal(check: Callable[[], None]) -> QuarantineReason | None:
    try:
        check()
    except MappingError as exc:
        return exc.reason
    return None


class _Kept(BaseModel):
    fields: JsonValue


@pytest.mark.parametrize("seed", range(4))
def test_nesting_check_refuses_exactly_what_is_deeper_than_the_limit(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        document, limit = _document(rng, rng.randrange(0, 8)), rng.randrange(0, 7)
        expected = QuarantineReason.NESTING_TOO_DEEP if _depth(document) > limit else None
        assert _refusal(lambda: check_nesting(document, limit=limit)) is expected  # noqa: B023


@pytest.mark.parametrize("seed", range(4))
def test_screening_finds_a_credential_exactly_when_one_text_holds_one(seed: int) -> None:
    rng = random.Random(seed)
    verdicts = set()
    for _ in range(500):
        kept = _Kept(fields=_document(rng, 4))
        expected = any(_CREDENTIAL_TEXT.search(text) for text in _texts(kept.model_dump(mode="json")))
        reason = _refusal(lambda: screen_kept_strings(kept, where="data"))  # noqa: B023
        assert reason is (QuarantineReason.UNSAFE_FIELDS if expected else None)
        verdicts.add(expected)
    assert verdicts == {True, False}


def test_screening_does_not_join_two_texts_into_a_credential() -> None:
    screen_kept_strings(_Kept(fields=["imap://user", ":pass@host"]), where="data")
    with pytest.raises(MappingError):
        screen_kept_strings(_Kept(fields=["ok", "imap://user:pass@host"]), where="data")


@pytest.mark.parametrize("seed", range(4))
def test_provider_fields_lose_exactly_the_secret_keys(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        fields: dict[str, JsonValue] = {rng.choice(_KEYS): _document(rng, 4) for _ in range(rng.randrange(0, 5))}
        expected, _ = withhold_secrets(fields)
        assert EventData(provider_fields=fields).provider_fields == expected
