"""`LocalStack` and the `regpipe-stack` CLI: endpoints in stack.json, env lines, clean stop."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from regpipe.stack.cli import app
from regpipe.stack.errors import ServerStartError
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.stack import ENDPOINTS_FILE, LocalStack, StackEndpoints

pytestmark = pytest.mark.integration


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Not tmp_path: as root, PostgreSQL and Dovecot's mail user must be able to enter the folder.
    folder = Path(tempfile.mkdtemp(prefix="regpipe-stack-"))
    folder.chmod(0o755)
    yield folder / ".stack"
    shutil.rmtree(folder)


async def test_stack_writes_endpoints_that_work_and_removes_them_on_stop(state_dir: Path) -> None:
    # Kafka is left out to keep this quick; the Kafka tests cover it.
    stack = LocalStack(state_dir, kafka=False)
    async with stack:
        endpoints = StackEndpoints.read(state_dir)
        assert endpoints == stack.endpoints
        assert endpoints.kafka_bootstrap_servers is None
        assert endpoints.postgres_dsn is not None
        assert endpoints.imap is not None

        connection = await asyncpg.connect(endpoints.postgres_dsn)
        try:
            assert await connection.fetchval("SELECT count(*) FROM schema_migrations") >= 1
        finally:
            await connection.close()

        result = CliRunner().invoke(app, ["env", "--state-dir", str(state_dir)])
        assert result.exit_code == 0, result.output
        assert f"export POSTGRES_DSN={endpoints.postgres_dsn}" in result.output
        assert f"export IMAP_PORT={endpoints.imap.port}" in result.output
        assert "KAFKA_BOOTSTRAP_SERVERS" not in result.output

    assert not (state_dir / ENDPOINTS_FILE).exists()


def test_env_without_a_running_stack_fails_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["env", "--state-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "no running stack" in result.output


async def test_a_broker_that_cannot_start_fails_with_its_output(tmp_path: Path) -> None:
    server = KafkaServer(tmp_path / "kafka", heap="1k")  # below -Xms: the JVM refuses to start

    with pytest.raises(ServerStartError, match="exited with code") as failure:
        await server.astart()

    assert "heap" in str(failure.value).lower()
    assert not server.running
