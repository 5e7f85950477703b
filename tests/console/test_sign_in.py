"""Signing in to the console in a real browser: roles, CSRF, cookie flags and the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import BrowserContext, expect
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regpipe.console import ConsoleConfig, create_console_app
from regpipe.console.delivery_admin import DeliveryAdminClient
from regpipe.console.http_source import HttpSource
from regpipe.console.quarantine import QuarantineReader
from regpipe.console.read_model import ReadModelClient
from regpipe.console.sources import PipelineSource, Sources
from regpipe.monitor import MonitorTarget
from regpipe.runtime import serve_app

VIEWER = "viewer-token-0123456789"
OPERATOR = "operator-token-0123456789"


def _normalizer_metrics() -> Starlette:
    """A service exporting the normalizer's metric names, as a running normalizer does."""
    registry = CollectorRegistry()
    Counter("regpipe_records_consumed", "records", ["stage"], registry=registry).labels("normalizer").inc(12)
    Counter("regpipe_quarantined", "quarantined", ["source", "reason"], registry=registry).labels(
        "most", "invalid_json"
    ).inc(3)
    Gauge("regpipe_leader", "leader", ["service", "account"], registry=registry).labels("opensrs-poller", "r1").set(1)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type="text/plain")

    return Starlette(routes=[Route("/metrics", metrics)])


@pytest.fixture
async def console_url() -> AsyncIterator[str]:
    async with serve_app(_normalizer_metrics()) as metrics_port, httpx.AsyncClient(timeout=5) as client:
        target = MonitorTarget({"normalizer": f"http://127.0.0.1:{metrics_port}/metrics"}, None)
        app = create_console_app(
            ConsoleConfig("s" * 32, (VIEWER,), (OPERATOR,), secure_cookies=False),
            Sources(
                pipeline=PipelineSource(target, client),
                # Not reached by these tests: nothing listens there.
                read_model=ReadModelClient(HttpSource("read API", "http://127.0.0.1:9", "unused")),
                delivery=DeliveryAdminClient(HttpSource("admin API", "http://127.0.0.1:9", "unused")),
                quarantine=QuarantineReader("127.0.0.1:9"),
            ),
        )
        async with serve_app(app) as port:
            yield f"http://127.0.0.1:{port}"


async def _sign_in(context: BrowserContext, base: str, token: str) -> None:
    page = await context.new_page()
    await page.goto(f"{base}/pipeline")
    await expect(page).to_have_url(f"{base}/signin")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id("role")).to_be_visible()
    await page.close()


async def test_a_wrong_token_is_refused_and_a_viewer_sees_the_pipeline(
    browser_context: BrowserContext, console_url: str
) -> None:
    page = await browser_context.new_page()
    await page.goto(f"{console_url}/pipeline")
    await expect(page).to_have_url(f"{console_url}/signin")
    await page.fill("#token", "not-a-token-at-all-xx")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_have_text("That token is not valid.")

    await page.fill("#token", VIEWER)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{console_url}/pipeline")
    await expect(page.get_by_test_id("role")).to_have_text("viewer")
    await expect(page.locator("tr[data-stage=normalizer] td").nth(2)).to_have_text("12")
    await expect(page.get_by_test_id("quarantine")).to_contain_text("invalid_json")
    await expect(page.get_by_test_id("leaders")).to_contain_text("opensrs-poller/r1")


async def test_session_cookie_flags_and_security_headers(browser_context: BrowserContext, console_url: str) -> None:
    await _sign_in(browser_context, console_url, VIEWER)
    cookies = {cookie["name"]: cookie for cookie in await browser_context.cookies()}
    assert cookies["regpipe_console"]["httpOnly"] is True
    assert cookies["regpipe_console"]["sameSite"] == "Strict"
    page = await browser_context.new_page()
    answer = await page.goto(f"{console_url}/pipeline")
    assert answer is not None
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["x-frame-options"] == "DENY"


async def test_sign_in_and_sign_out_need_the_forms_csrf_token(console_url: str) -> None:
    async with httpx.AsyncClient(base_url=console_url) as client:
        forged = await client.post("/signin", data={"token": OPERATOR})
        assert forged.status_code == 403
        after = await client.get("/pipeline")
        assert after.status_code == 303
        assert after.headers["location"] == "/signin"
