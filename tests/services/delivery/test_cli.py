"""`regpipe-delivery subscriptions ...` and `redeliver ...` as a real process on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import pytest

from regpipe.delivery.intake import Intake
from tests.dedup.events import expiring
from tests.delivery.databases import fresh_database

pytestmark = pytest.mark.integration


def _cli(dsn: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POSTGRES_DSN": dsn, "DELIVERY_ALLOWED_NETWORKS": "127.0.0.0/8"}
    return subprocess.run(
        [sys.executable, "-m", "regpipe.services.delivery", *arguments],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


async def _ok(dsn: str, *arguments: str) -> Any:
    done = await asyncio.to_thread(_cli, dsn, *arguments)
    assert done.returncode == 0, done.stderr[-2000:]
    return orjson.loads(done.stdout)


async def test_subscription_lifecycle_and_redelivery(pg_dsn: str) -> None:
    dsn = await fresh_database(pg_dsn)
    created = await _ok(dsn, "subscriptions", "create", "http://127.0.0.1:9/hook", "--event-type", "domain.*")
    sid, secret = created["subscription"]["id"], created["secret"]
    assert secret.startswith("whsec_")
    listed = await _ok(dsn, "subscriptions", "list")
    assert [s["id"] for s in listed] == [sid]
    assert secret not in orjson.dumps(listed).decode()
    rotated = await _ok(dsn, "subscriptions", "rotate-secret", sid, "--overlap-s", "60")
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != secret
    assert (await _ok(dsn, "subscriptions", "disable", sid))["enabled"] is False
    assert (await _ok(dsn, "subscriptions", "enable", sid))["enabled"] is True

    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        event = expiring(uuid.uuid4(), time=datetime(2026, 7, 1, 12, tzinfo=UTC))
        await Intake(pool, refresh_s=0).store([event])
        assert await _ok(dsn, "redeliver", "event", sid, str(event.id)) == {"scheduled": 1}
        window = ["--since", "2026-07-01T00:00:00", "--until", "2026-07-02T00:00:00+00:00"]
        assert await _ok(dsn, "redeliver", "range", sid, *window) == {"scheduled": 1}
        assert await _ok(dsn, "redeliver", "failed", "--since", "2026-01-01") == {"scheduled": 0}
        assert await pool.fetchval("SELECT redeliveries FROM delivery_jobs") == 2
    finally:
        await pool.close()


@pytest.mark.parametrize(
    "arguments",
    [
        ("subscriptions", "create", "http://127.0.0.1:9/hook", "--event-type", "domain.registerd"),
        ("subscriptions", "create", "http://169.254.169.254/latest"),
        ("subscriptions", "enable", str(uuid.UUID(int=1))),
    ],
)
async def test_refusals_are_one_line_and_exit_2(pg_dsn: str, arguments: tuple[str, ...]) -> None:
    dsn = await fresh_database(pg_dsn)
    done = await asyncio.to_thread(_cli, dsn, *arguments)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
