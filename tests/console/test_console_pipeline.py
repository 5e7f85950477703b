"""The console in a real headless Chromium against the running services (aggregator, delivery, normalizer, console
as processes) on the real broker and PostgreSQL, with a local subscriber on 127.0.0.1.

Each test drives the pages as an operator or viewer would, and checks what the services then did (what the
subscriber received, what the admin API says). Screenshots of every page go to $CONSOLE_SCREENSHOTS (or a temp dir).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, ConsoleMessage, Dialog, Locator, Page, expect

from regpipe.contract import CanonicalEvent, EventType, Lineage, Source, Transport
from regpipe.contract.raw import RawHeaders
from tests.aggregate.events import batch_event, domain_event, order_event
from tests.console.running import ADMIN_TOKEN, OPERATOR, VIEWER, RunningConsole, running_console
from tests.dedup.events import expiring
from tests.kafka_io import produce_events, produce_records

pytestmark = pytest.mark.integration

_WAIT_MS = 60_000
_IDN, _IDN_ACE = "bücher.example", "xn--bcher-kva.example"
_XSS_SCRIPT = "<script>window.__pwned = 1</script>"
_XSS_IMG = '"><img src=x onerror="window.__pwned = 2; alert(2)">'


def _raw_at(event: CanonicalEvent, offset: int) -> CanonicalEvent:
    """The event as the normalizer publishes it: with the raw record's position."""
    return event.model_copy(update={"lineage": Lineage(topic="registrar.raw.v1", partition=2, offset=offset)})


@pytest.fixture(scope="module")
async def running(
    kafka_bootstrap: str, pg_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningConsole]:
    async with running_console(kafka_bootstrap, pg_dsn, tmp_path_factory.mktemp("console-services")) as started:
        yield started


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("console-screenshots")


def _admin(running: RunningConsole) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=running.admin_url, headers={"authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)


async def _subscribe(running: RunningConsole, endpoint: str, **spec: object) -> str:
    async with _admin(running) as admin:
        answer = await admin.post("/v1/subscriptions", json={"url": running.receivers.url(endpoint), **spec})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["subscription"]["id"])


@pytest.fixture(scope="module")
async def everything(running: RunningConsole) -> str:
    """A subscription to every event, made before any event is fed (so each is delivered)."""
    return await _subscribe(running, "everything")


async def _eventually(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


async def _reload_until(page: Page, url: str, shown: Callable[[], Awaitable[bool]], what: str) -> None:
    """Reload `url` until `shown()` (the services fold and deliver asynchronously)."""

    async def check() -> bool:
        await page.goto(url)
        return await shown()

    await _eventually(check, what)


async def _sign_in(context: BrowserContext, base: str, token: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{base}/signin")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id("role")).to_be_visible(timeout=_WAIT_MS)
    return page


async def test_a_domain_is_found_by_its_unicode_and_ascii_name_and_its_timeline_read(
    running: RunningConsole, everything: str, browser_context: BrowserContext, shots: Path
) -> None:
    s = Source.OPENSRS
    registered = _raw_at(
        domain_event(f"reg-{uuid.uuid4()}", Source.MOST, EventType.DOMAIN_REGISTERED, _IDN, minute=1), 41
    )
    renamed = _raw_at(
        domain_event(
            f"ns-{uuid.uuid4()}", s, EventType.DOMAIN_NAMESERVERS_UPDATED, _IDN, minute=2, nameservers=["ns1.x"]
        ),
        42,
    )
    await produce_events(running.bootstrap, running.events_topic, [registered, renamed])
    page = await _sign_in(browser_context, running.url, OPERATOR)

    await _reload_until(
        page,
        f"{running.url}/domains?q={_IDN}",
        lambda: page.get_by_test_id("domain-results").get_by_text(_IDN_ACE).first.is_visible(),
        "the IDN domain found by its Unicode name",
    )
    await page.screenshot(path=shots / "domains.png", full_page=True)
    await page.goto(f"{running.url}/domains")
    await page.fill("#q", "xn--bcher-kva")  # a prefix of the ASCII form
    await page.click("form.filters button[type=submit]")
    results = page.get_by_test_id("domain-results")
    await expect(results).to_contain_text(_IDN, timeout=_WAIT_MS)
    await expect(results.locator("tbody tr")).to_have_count(2)  # one state per provider that reported it
    await results.get_by_role("link", name=_IDN_ACE).first.click()

    await expect(page.get_by_test_id("domain-name")).to_contain_text(_IDN)
    timeline = page.get_by_test_id("timeline")
    events = timeline.locator("article.event")
    await expect(events).to_have_count(2)
    # Newest first, each with its route, raw position and payload.
    await expect(events.nth(0).locator(".event-type")).to_have_text("domain.nameservers_updated")
    await expect(events.nth(0).locator(".route")).to_have_text("poll")
    await expect(events.nth(0).locator(".raw-position")).to_have_text("registrar.raw.v1/2@42")
    await expect(events.nth(0).locator("pre.payload")).to_contain_text("ns1.x")
    await expect(events.nth(1).locator(".route")).to_have_text("webhook")
    await _reload_until(
        page,
        page.url,
        lambda: (
            timeline.locator(f"article[data-event-id='{registered.id}'] table.attempts")
            .get_by_text("delivered")
            .is_visible()
        ),
        "the delivery of the registration shown on the domain page",
    )
    await page.screenshot(path=shots / "domain.png", full_page=True)


async def test_an_order_batch_is_followed_to_completion(
    running: RunningConsole, everything: str, browser_context: BrowserContext, shots: Path
) -> None:
    batch = f"BATCH-{uuid.uuid4().hex[:8]}"
    orders = [(f"MO-{batch}-{i}", f"order{i}-{batch.lower()}.example", "REGISTERED") for i in range(3)]
    await produce_events(
        running.bootstrap,
        running.events_topic,
        [batch_event(f"{batch}-s1", EventType.ORDER_BATCH_REGISTERED, batch, orders, minute=10)],
    )
    page = await _sign_in(browser_context, running.url, VIEWER)
    await _reload_until(
        page,
        f"{running.url}/order-batches?provider=most",
        lambda: page.get_by_test_id("listing").get_by_role("link", name=batch).is_visible(),
        "the batch listed",
    )
    await page.screenshot(path=shots / "order-batches.png", full_page=True)
    await page.get_by_test_id("listing").get_by_role("link", name=batch).click()
    status = page.get_by_test_id("batch-status")
    await expect(status).to_have_text("registered", timeout=_WAIT_MS)
    await expect(page.locator("td.stage.done")).to_have_count(3)  # stage 1 of every order

    completions = [
        order_event(f"{order_id}-done", batch, order_id, domain, "COMPLETED", minute=20 + i)
        for i, (order_id, domain, _) in enumerate(orders)
    ]
    await produce_events(running.bootstrap, running.events_topic, completions)
    await expect(status).to_have_text("completed", timeout=_WAIT_MS)  # the page reloads itself while running
    await expect(page.locator("td.stage.done")).to_have_count(6)
    await page.screenshot(path=shots / "batch.png", full_page=True)
    await page.goto(f"{running.url}/orders?status=COMPLETED")
    await expect(page.get_by_test_id("listing")).to_contain_text(orders[0][0])
    await page.screenshot(path=shots / "orders.png", full_page=True)


async def test_a_bad_record_appears_on_the_pipeline_page_with_its_reason_and_replay_command(
    running: RunningConsole, browser_context: BrowserContext, shots: Path
) -> None:
    headers = RawHeaders(source=Source.MOST, transport=Transport.WEBHOOK, provider_event_type="domain.registered")
    await produce_records(running.bootstrap, running.raw_topic, [(b"bad", b'{"not json', headers.to_kafka())])
    page = await _sign_in(browser_context, running.url, VIEWER)
    rows = page.get_by_test_id("quarantined").locator("tr[data-reason]")
    await _reload_until(page, f"{running.url}/pipeline", lambda: rows.first.is_visible(), "the quarantined record")
    row = rows.first
    await expect(row.locator("td.reason")).to_have_text("invalid_json")
    await expect(row).to_contain_text("most")
    await expect(row.locator("code.command")).to_have_text(
        f"regpipe-replay redrive-quarantine --quarantine-topic {running.quarantine_topic} --partition 0"
        " --from-offset 0 --to-offset 1"
    )
    await expect(row).not_to_contain_text('{"not json')  # headers only, never the value
    await page.screenshot(path=shots / "pipeline.png", full_page=True)


async def test_disabling_an_endpoint_stops_its_deliveries_and_a_redelivery_arrives_with_the_same_webhook_id(
    running: RunningConsole, browser_context: BrowserContext, shots: Path
) -> None:
    suffix = f"flow{uuid.uuid4().hex[:6]}.example"
    endpoint = f"flow-{suffix}"
    sid = await _subscribe(running, endpoint, domain_suffixes=[suffix])
    first, second = (expiring(uuid.uuid4(), domain=f"{n}.{suffix}", time=datetime.now(UTC)) for n in ("a", "b"))
    receivers = running.receivers
    await produce_events(running.bootstrap, running.events_topic, [first])
    await _eventually(lambda: _true(str(first.id) in receivers.delivered_ids(endpoint)), "the first delivery")

    page = await _sign_in(browser_context, running.url, OPERATOR)
    await page.goto(f"{running.url}/deliveries")
    await page.get_by_test_id("endpoints").get_by_role("link", name=receivers.url(endpoint)).click()
    await expect(page).to_have_url(f"{running.url}/deliveries/endpoints/{sid}")
    await page.screenshot(path=shots / "endpoint.png", full_page=True)
    await page.get_by_role("link", name="Disable…").click()
    await expect(page.get_by_test_id("question")).to_contain_text("Disable")
    await page.get_by_test_id("confirm").click()
    await expect(page.get_by_test_id("endpoint-state")).to_have_text("disabled")

    await produce_events(running.bootstrap, running.events_topic, [second])
    # The pipeline took `second` in: the subscription to every event got it. The disabled endpoint must not.
    await _eventually(lambda: _true(str(second.id) in receivers.delivered_ids("everything")), "the second event")
    held_until = time.monotonic() + 3  # the dispatcher polls every 0.1 s: 30 chances to send it
    while time.monotonic() < held_until:
        assert str(second.id) not in {a.webhook_id for a in receivers.of(endpoint)}, "sent to a disabled endpoint"
        await asyncio.sleep(0.1)
    await page.get_by_role("link", name="Enable…").click()
    await page.get_by_test_id("confirm").click()
    await expect(page.get_by_test_id("endpoint-state")).to_have_text("enabled")

    async def resumed() -> bool:  # new events reach it again (the intake re-reads its routes every second)
        later = expiring(uuid.uuid4(), domain=f"c.{suffix}", time=datetime.now(UTC))
        await produce_events(running.bootstrap, running.events_topic, [later])
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if str(later.id) in receivers.delivered_ids(endpoint):
                return True
            await asyncio.sleep(0.1)
        return False

    await _eventually(resumed, "deliveries to the endpoint once enabled again")

    await page.goto(f"{running.url}/deliveries/events/{first.id}")
    await expect(page.get_by_test_id("attempts").locator(f"tr[data-endpoint='{sid}']")).to_have_count(1)
    await page.screenshot(path=shots / "event.png", full_page=True)
    await page.get_by_role("link", name=f"Redeliver to {receivers.url(endpoint)}…").click()
    await expect(page.get_by_test_id("question")).to_contain_text("this makes 1 delivery.")
    await page.screenshot(path=shots / "confirm.png", full_page=True)
    await page.get_by_test_id("confirm").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Scheduled 1 delivery")
    await _eventually(
        lambda: _true([a.webhook_id for a in receivers.of(endpoint)].count(str(first.id)) == 2),
        "the redelivery at the receiver with the same webhook-id",
    )
    await _reload_until(
        page,
        f"{running.url}/deliveries/events/{first.id}",
        lambda: _count_is(
            page.get_by_test_id("attempts").locator(f"tr[data-endpoint='{sid}'][data-outcome=delivered]"), 2
        ),
        "the new attempt on the event page",
    )
    await page.goto(f"{running.url}/deliveries")
    await page.screenshot(path=shots / "deliveries.png", full_page=True)


async def _true(value: bool) -> bool:
    return value


async def _count_is(locator: Locator, count: int) -> bool:
    return await locator.count() == count


async def test_a_viewer_has_no_action_buttons_and_a_forged_action_is_refused(
    running: RunningConsole, everything: str, browser_context: BrowserContext
) -> None:
    page = await _sign_in(browser_context, running.url, VIEWER)
    await page.goto(f"{running.url}/deliveries/endpoints/{everything}")
    await expect(page.get_by_test_id("endpoint-state")).to_have_text("enabled")
    await expect(page.get_by_test_id("endpoint-actions")).to_have_count(0)
    await expect(page.get_by_role("link", name="Disable…")).to_have_count(0)
    csrf = await page.locator("form.signout input[name=csrf]").get_attribute("value")
    assert csrf
    confirm = await browser_context.request.get(f"{running.url}/actions/endpoints/{everything}/disable")
    assert confirm.status == 403
    forged = await browser_context.request.post(
        f"{running.url}/actions/endpoints/{everything}/disable", form={"csrf": csrf}
    )
    assert forged.status == 403
    failed = await browser_context.request.post(
        f"{running.url}/actions/redeliver-failed", form={"csrf": csrf, "since": "2026-01-01T00:00"}
    )
    assert failed.status == 403
    async with _admin(running) as admin:
        assert (await admin.get(f"/v1/subscriptions/{everything}")).json()["enabled"] is True


async def test_provider_fields_with_markup_render_as_text_and_run_nothing(
    running: RunningConsole, everything: str, browser_context: BrowserContext, shots: Path
) -> None:
    domain = f"xss-{uuid.uuid4().hex[:6]}.example"
    registered = domain_event(f"xss-{domain}", Source.MOST, EventType.DOMAIN_REGISTERED, domain, minute=1)
    hostile = expiring(
        uuid.uuid4(),
        domain=domain,
        time=datetime.now(UTC) - timedelta(minutes=1),
        provider_fields={"note": _XSS_SCRIPT, "label": _XSS_IMG},
    )
    await produce_events(running.bootstrap, running.events_topic, [registered, hostile])
    page = await _sign_in(browser_context, running.url, OPERATOR)
    problems: list[str] = []
    page.on("console", lambda message: _record_error(problems, message))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: _dismiss(problems, dialog))

    await _reload_until(
        page,
        f"{running.url}/domains/{domain}",
        lambda: _count_is(page.get_by_test_id("timeline").locator("article.event"), 2),
        "both events on the domain page",
    )
    payload = page.get_by_test_id("timeline").locator("pre.payload").first
    await expect(payload).to_contain_text(_XSS_SCRIPT)
    await expect(payload).to_contain_text("onerror=")
    assert await page.locator("pre.payload img, pre.payload script").count() == 0
    assert await page.evaluate("() => window.__pwned === undefined")
    await page.goto(f"{running.url}/deliveries/events/{hostile.id}")
    await expect(page.get_by_test_id("body")).to_contain_text(_XSS_SCRIPT)
    assert await page.evaluate("() => window.__pwned === undefined")
    await page.screenshot(path=shots / "escaped-payload.png", full_page=True)
    assert problems == []


def _record_error(problems: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        problems.append(f"console error: {message.text}")


def _dismiss(problems: list[str], dialog: Dialog) -> None:
    problems.append(f"dialog: {dialog.message}")
    asyncio.get_running_loop().create_task(dialog.dismiss())


async def test_a_rotated_secret_is_shown_once_and_range_redeliveries_are_counted_before_they_run(
    running: RunningConsole, browser_context: BrowserContext, shots: Path
) -> None:
    suffix = f"range{uuid.uuid4().hex[:6]}.example"
    endpoint = f"range-{suffix}"
    sid = await _subscribe(running, endpoint, domain_suffixes=[suffix])
    now = datetime.now(UTC).replace(second=30, microsecond=0)  # events at :30, the form's times at whole minutes
    batch = [expiring(uuid.uuid4(), domain=f"{i}.{suffix}", time=now - timedelta(minutes=i)) for i in range(3)]
    receivers = running.receivers
    await produce_events(running.bootstrap, running.events_topic, batch)
    await _eventually(
        lambda: _true({str(e.id) for e in batch} <= receivers.delivered_ids(endpoint)), "the range delivered"
    )
    page = await _sign_in(browser_context, running.url, OPERATOR)
    await page.goto(f"{running.url}/deliveries/endpoints/{sid}")
    await page.get_by_role("link", name="Rotate secret…").click()
    await page.get_by_test_id("confirm").click()
    secret = await page.get_by_test_id("secret").inner_text()
    assert secret.startswith("whsec_")
    await page.goto(f"{running.url}/deliveries/endpoints/{sid}")
    assert secret not in await page.content()  # shown that once only

    form = page.locator(f"form[action='/actions/endpoints/{sid}/redeliver-range']")
    await form.locator("input[name=since]").fill((now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    await form.locator("input[name=until]").fill((now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    await form.get_by_role("button").click()
    await expect(page.get_by_test_id("question")).to_contain_text("this makes 2 deliveries.")  # minutes 0 and 1
    await page.get_by_test_id("confirm").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Scheduled 2 deliveries")

    async def twice() -> bool:
        ids = [a.webhook_id for a in receivers.of(endpoint)]
        return ids.count(str(batch[0].id)) == 2 and ids.count(str(batch[1].id)) == 2

    await _eventually(twice, "the range redelivered")
    assert [a.webhook_id for a in receivers.of(endpoint)].count(str(batch[2].id)) == 1  # outside the range

    await page.goto(f"{running.url}/deliveries")
    await page.locator("[data-testid=redeliver-failed-form] input[name=since]").fill("2026-01-01T00:00")
    await page.locator("[data-testid=redeliver-failed-form] button").click()
    await expect(page.get_by_test_id("question")).to_contain_text("this makes 0 deliveries.")  # nothing died
