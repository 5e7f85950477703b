"""Session-wide fixtures for real servers: Kafka, PostgreSQL and Dovecot IMAP, started by the stack.

Each server starts only when a test asks for its fixture, once per session, and stops at the end.
To reuse servers that already run (e.g. `regpipe-stack up`), set REGPIPE_TEST_KAFKA_BOOTSTRAP
and/or REGPIPE_TEST_POSTGRES_DSN: `kafka_bootstrap` and `pg_dsn` then start nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from regpipe.pg.migrate import apply_migrations
from regpipe.stack.dovecot import DovecotServer
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.postgres import PostgresServer

KAFKA_BOOTSTRAP_ENV = "REGPIPE_TEST_KAFKA_BOOTSTRAP"
POSTGRES_DSN_ENV = "REGPIPE_TEST_POSTGRES_DSN"


@pytest.fixture(scope="session")
async def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KafkaServer]:
    """A Kafka broker of this test session (always a fresh one, even when the env var is set)."""
    server = KafkaServer(tmp_path_factory.mktemp("kafka"))
    await server.astart()
    yield server
    await server.astop()


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> str:
    """`host:port` of a ready Kafka broker: $REGPIPE_TEST_KAFKA_BOOTSTRAP, else `kafka_server`."""
    external = os.environ.get(KAFKA_BOOTSTRAP_ENV)
    if external:
        return external
    server: KafkaServer = request.getfixturevalue("kafka_server")
    return server.bootstrap_servers


@pytest.fixture(scope="session")
async def pg_server() -> AsyncIterator[PostgresServer]:
    """A throwaway PostgreSQL server with the `regpipe` database migrated (own temp dir)."""
    # Not tmp_path_factory: as root the server runs as `postgres`, which cannot enter pytest's 0700 dirs.
    server = PostgresServer()
    await server.astart()
    yield server
    await server.astop()


@pytest.fixture(scope="session")
def pg_dsn(request: pytest.FixtureRequest) -> str:
    """DSN of a migrated `regpipe` database: $REGPIPE_TEST_POSTGRES_DSN (migrated now), else `pg_server`."""
    external = os.environ.get(POSTGRES_DSN_ENV)
    if external:
        # A sync fixture (so it can pick `pg_server` lazily), hence a loop of its own in a worker
        # thread: the session's event loop is left alone.
        with ThreadPoolExecutor(max_workers=1) as worker:
            worker.submit(asyncio.run, apply_migrations(external)).result()
        return external
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.dsn


@pytest.fixture(scope="session")
async def imap_server() -> AsyncIterator[DovecotServer]:
    """A private Dovecot IMAP server (plain port and IMAPS with `ca_file`) with one user."""
    server = DovecotServer()
    await server.astart()
    yield server
    await server.astop()
