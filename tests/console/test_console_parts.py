"""The console's pure parts: the replay command of a quarantined record, expiry checkpoints ahead, a batch order's
stages, form times, and how an API's refusal becomes the console's error (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regpipe.aggregate.read.views import DomainState, OrderView
from regpipe.console.errors import SourceNotFoundError, SourceRefusedError, SourceUnavailableError
from regpipe.console.http_source import HttpSource
from regpipe.console.pages.domains import next_checkpoints
from regpipe.console.pages.operations import batch_progress, parse_time
from regpipe.console.quarantine import QuarantineReader
from regpipe.delivery.models import RedeliveryReport
from regpipe.runtime import serve_app

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_replay_command_redrives_exactly_one_record() -> None:
    default = QuarantineReader("127.0.0.1:9")
    assert default.replay_command(2, 41) == (
        "regpipe-replay redrive-quarantine --partition 2 --from-offset 41 --to-offset 42"
    )
    private = QuarantineReader("127.0.0.1:9", "quarantine-x; rm -rf /")
    assert "--quarantine-topic 'quarantine-x; rm -rf /'" in private.replay_command(0, 0)  # quoted for a shell


def _state(expires_at: datetime | None) -> DomainState:
    return DomainState(
        provider="most", account="", name="a.example", name_unicode="a.example", status="registered",
        expires_at=expires_at, nameservers=[], verification_status=None, registrant_change_status=None,
        transfer_status=None, first_event_at=None, last_event=None,
    )  # fmt: skip


def test_next_checkpoints_are_the_ones_still_ahead() -> None:
    assert next_checkpoints(_state(None), NOW) == []
    ahead = next_checkpoints(_state(NOW + timedelta(days=6, hours=12)), NOW)
    assert [days for days, _ in ahead] == [6, 5, 4]
    assert ahead[0][1] == NOW + timedelta(hours=12)


def _order(status: str | None) -> OrderView:
    return OrderView(kind="most_batch_order", provider="most", order_id="O", status=status, terminal=False)


def test_batch_order_stages() -> None:
    assert batch_progress(_order(None)) == ["waiting", "waiting"]
    assert batch_progress(_order("REGISTERED")) == ["done", "waiting"]
    assert batch_progress(_order("COMPLETED")) == ["done", "done"]
    assert batch_progress(_order("FAILED")) == ["failed", "skipped"]


def test_form_times_without_a_zone_are_utc() -> None:
    assert parse_time("") is None
    assert parse_time("2026-12-01T08:00") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    with pytest.raises(SourceRefusedError):
        parse_time("yesterday")


async def test_api_answers_become_models_or_the_consoles_errors() -> None:
    async def answer(request: Request) -> Response:
        assert request.headers["authorization"] == "Bearer t0ken"
        code = int(request.path_params["code"])
        if code == 200:
            return JSONResponse({"scheduled": 3})
        if code == 299:
            return JSONResponse({"unexpected": True})
        return JSONResponse({"detail": f"status {code}"}, status_code=code)

    async with serve_app(Starlette(routes=[Route("/{code:int}", answer)])) as port:
        source = HttpSource("test API", f"http://127.0.0.1:{port}", "t0ken")
        try:
            assert await source.call(RedeliveryReport, "GET", "/200") == RedeliveryReport(scheduled=3)
            with pytest.raises(SourceNotFoundError):
                await source.call(RedeliveryReport, "GET", "/404")
            with pytest.raises(SourceRefusedError, match="status 422"):
                await source.call(RedeliveryReport, "GET", "/422")
            with pytest.raises(SourceUnavailableError):
                await source.call(RedeliveryReport, "GET", "/503")
            with pytest.raises(SourceUnavailableError):
                await source.call(RedeliveryReport, "GET", "/299")
        finally:
            await source.aclose()
    gone = HttpSource("gone API", "http://127.0.0.1:9", "t")
    with pytest.raises(SourceUnavailableError):
        await gone.call(RedeliveryReport, "GET", f"/{uuid.uuid4()}")
    await gone.aclose()
