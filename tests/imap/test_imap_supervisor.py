"""The supervisor against real Dovecot, Kafka and PostgreSQL: one reader per mailbox, reconnects, fatal errors."""

from __future__ import annotations

import asyncio
import random
import subprocess
from collections.abc import AsyncIterator, Callable

import pytest
from prometheus_client import REGISTRY

import regpipe.kafka
from regpipe.contract.taxonomy import Source
from regpipe.imap.config import ImapConfig, MailboxPolicy
from regpipe.imap.connection import ImapConnection
from regpipe.imap.errors import ImapAuthError
from regpipe.imap.ingestor import MailboxIngestor
from regpipe.imap.supervisor import MailboxSupervisor, ReaderState, ReconnectPolicy, lease_name
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.producer import create_producer
from regpipe.leadership.lease import ExpiringLease
from regpipe.providers.opensrs.email import NotificationMailClassifier
from regpipe.simulators.opensrs.events import generate_events
from regpipe.simulators.opensrs.mail import MailboxTarget, deliver, notification_mail
from regpipe.stack.dovecot import DovecotServer
from tests.imap.mailboxes import imap_config, new_mailbox, stored
from tests.kafka_io import RawTail
from tests.leadership.lease_admin import take_over

pytestmark = pytest.mark.integration

_FAST = ReconnectPolicy(
    backoff_initial_s=0.1,
    backoff_max_s=0.5,
    backoff_jitter_s=0.1,
    pause_after_session_s=0.1,
    lease_check_interval_s=0.3,
)


@pytest.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[RawPublisher]:
    await regpipe.kafka.ensure_topics(kafka_bootstrap)
    producer = create_producer(kafka_bootstrap, client_id="imap-supervisor-test")
    await producer.start()
    try:
        yield RawPublisher(producer)
    finally:
        await producer.stop()


class _Replica:
    """One supervisor with its own lease, counting the IMAP connections it opens."""

    def __init__(self, config: ImapConfig, publisher: RawPublisher, pg_dsn: str, name: str) -> None:
        self.name = name
        self.stop = asyncio.Event()
        self.opened: list[ImapConnection] = []
        # No test here waits out an expiry (a release or a takeover hands over), so the TTL only needs to be long
        # enough that a renewal delayed by a busy machine does not lose the lease by itself.
        self.lease = ExpiringLease(
            pg_dsn, lease_name(config), service=f"test-{name}", ttl_s=6.0, retry_interval_s=0.2, stop=self.stop
        )
        ingestor = MailboxIngestor(
            policy=MailboxPolicy(),
            publisher=publisher,
            classifier=NotificationMailClassifier(),
            source=Source.OPENSRS,
            account=config.username,
        )
        self.supervisor = MailboxSupervisor(config, ingestor, lease=self.lease, reconnect=_FAST, opener=self._open)
        self.task: asyncio.Task[None] | None = None

    @property
    def connections(self) -> int:
        return len(self.opened)

    async def _open(self, config: ImapConfig) -> ImapConnection:
        connection = await ImapConnection.open(config)
        self.opened.append(connection)
        return connection

    def start(self) -> None:
        self.task = asyncio.create_task(self.supervisor.run(self.stop), name=self.name)

    async def shutdown(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, timeout=15)


async def _until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 -- supervisor states and counters have no event to await
            await asyncio.sleep(0.05)


def _mails(seed: int, n: int) -> list[bytes]:
    return [notification_mail(event) for event in generate_events(random.Random(seed), n)]


async def test_two_replicas_only_one_reads_and_the_other_takes_over(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher, pg_dsn: str
) -> None:
    mailbox = new_mailbox(imap_server)
    config = imap_config(imap_server, mailbox)
    first, second = _Replica(config, publisher, pg_dsn, "a"), _Replica(config, publisher, pg_dsn, "b")
    first.start()
    await _until(lambda: first.supervisor.state is ReaderState.READING)
    second.start()
    try:
        async with RawTail(kafka_bootstrap, mailbox.username) as raw:
            batch = _mails(21, 10)
            await deliver(mailbox, batch)
            await raw.wait_for(10)
            await asyncio.sleep(0.5)
            await raw.poll()
            assert sorted(record.value for record in raw.records) == sorted(batch)  # each exactly once
            assert (first.connections, second.connections) == (1, 0)
            # Once it got there (it starts beside a busy leader): a state reached, not one assumed after a pause.
            await _until(lambda: second.supervisor.state is ReaderState.WAITING_FOR_LEASE)

            await first.shutdown()
            await _until(lambda: second.supervisor.state is ReaderState.READING)
            later = _mails(22, 5)
            await deliver(mailbox, later)
            await raw.wait_for(15)
        assert second.connections == 1
        assert await stored(mailbox) == []
    finally:
        await first.shutdown()
        await second.shutdown()


async def test_a_leader_that_loses_its_lease_stops_reading_at_once(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher, pg_dsn: str
) -> None:
    mailbox = new_mailbox(imap_server)
    config = imap_config(imap_server, mailbox)
    leader = _Replica(config, publisher, pg_dsn, "leader")
    leader.start()
    try:
        await _until(lambda: leader.supervisor.state is ReaderState.READING)
        first = leader.opened[0]

        def times_lost() -> float | None:
            return REGISTRY.get_sample_value(
                "regpipe_imap_session_errors_total", {"account": config.account, "error": "lease_lost"}
            )

        await take_over(pg_dsn, lease_name(config), for_s=1.0)  # someone else holds it for a second
        # Within one renewal (2 s) and one lease check (0.3 s) on a quiet machine; the deadline allows for load.
        # The loss is counted after the reading was cancelled and its connection closed: wait for both.
        await _until(lambda: first.closed and times_lost() is not None, timeout_s=30)
        assert times_lost() == 1
        # With nobody else waiting it becomes leader again and reads on, over a new connection.
        await _until(lambda: leader.supervisor.state is ReaderState.READING and leader.connections == 2)
        async with RawTail(kafka_bootstrap, mailbox.username) as raw:
            await deliver(mailbox, _mails(23, 2))
            await raw.wait_for(2)
        assert leader.connections == 2
    finally:
        await leader.shutdown()


async def test_a_dropped_connection_is_reopened(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher, pg_dsn: str
) -> None:
    mailbox = new_mailbox(imap_server)
    replica = _Replica(imap_config(imap_server, mailbox), publisher, pg_dsn, "kicked")
    replica.start()
    try:
        await _until(lambda: replica.supervisor.state is ReaderState.READING)
        await asyncio.to_thread(
            subprocess.run,
            ["doveadm", "-c", str(imap_server.config_file), "kick", mailbox.username],
            check=True,
            capture_output=True,
        )
        await _until(lambda: replica.connections == 2)
        async with RawTail(kafka_bootstrap, mailbox.username) as raw:
            await deliver(mailbox, _mails(24, 3))
            await raw.wait_for(3)
    finally:
        await replica.shutdown()


async def test_a_wrong_password_ends_the_run_with_nothing_published(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher, pg_dsn: str
) -> None:
    mailbox = new_mailbox(imap_server)
    await deliver(mailbox, _mails(25, 2))
    replica = _Replica(imap_config(imap_server, mailbox, password="wrong"), publisher, pg_dsn, "wrong")
    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        with pytest.raises(ImapAuthError, match="login refused"):
            await asyncio.wait_for(replica.supervisor.run(replica.stop), timeout=15)
        await asyncio.sleep(0.3)
        assert await raw.poll() == []
    assert replica.supervisor.state is ReaderState.STOPPED
    assert not replica.lease.held
    assert len(await stored(mailbox)) == 2


async def test_stop_while_idling_logs_out_promptly(
    imap_server: DovecotServer, publisher: RawPublisher, pg_dsn: str
) -> None:
    mailbox: MailboxTarget = new_mailbox(imap_server)
    replica = _Replica(imap_config(imap_server, mailbox), publisher, pg_dsn, "idle")
    replica.start()
    await _until(lambda: replica.supervisor.state is ReaderState.READING)
    await _until(lambda: bool(replica.opened) and replica.opened[-1]._client.has_pending_idle())
    loop = asyncio.get_running_loop()
    started = loop.time()
    await replica.shutdown()
    # Promptly: not after the IDLE ends by itself (minutes); seconds of slack for a loaded machine.
    assert loop.time() - started < 10
    assert replica.supervisor.state is ReaderState.STOPPED
    assert not replica.lease.held
