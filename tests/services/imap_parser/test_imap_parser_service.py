"""The real IMAP parser service as a subprocess: SIGKILL mid-stream loses nothing and never moves a message before
its record is on Kafka; two replicas read a mailbox with one reader; a wrong password stops it with a clear error."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import httpx
import pytest

import regpipe.kafka
from regpipe.simulators.opensrs.mail import MailboxTarget, MailKind, deliver, mailbox_batch
from regpipe.stack.dovecot import DovecotServer
from regpipe.stack.ports import free_port
from tests.imap.mailboxes import new_mailbox, stored
from tests.kafka_io import RawTail
from tests.service_process import ServiceUnderTest

pytestmark = pytest.mark.integration

_MAILS = 240
_CHUNK = 20


def _env(
    imap_server: DovecotServer, mailbox: MailboxTarget, kafka_bootstrap: str, pg_dsn: str, **extra: str
) -> dict[str, str]:
    return {
        "IMAP_HOST": imap_server.host,
        "IMAP_PORT": str(imap_server.port),
        "IMAP_SECURITY": "plain",
        "IMAP_ALLOW_PLAIN": "true",
        "IMAP_USERNAME": mailbox.username,
        "IMAP_PASSWORD": mailbox.password,
        "IMAP_BATCH_SIZE": "10",
        "IMAP_BACKOFF_INITIAL_S": "0.1",
        "IMAP_BACKOFF_MAX_S": "1",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "POSTGRES_DSN": pg_dsn,
        "LEASE_RETRY_INTERVAL_S": "0.2",
        # Not shorter: a leader starved of CPU for a few seconds (a loaded machine) must not lose its lease.
        "LEASE_TTL_S": "10",
        "LEASE_CHECK_INTERVAL_S": "0.5",
        **extra,
    }


async def _wait_log(service: ServiceUnderTest, text: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in service.log:
        if service.returncode is not None:
            pytest.fail(f"the service exited with {service.returncode}; log:\n{service.log[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} never logged; log:\n{service.log[-3000:]}")
        await asyncio.sleep(0.05)


async def test_sigkill_mid_stream_loses_nothing_over_imaps(
    imap_server: DovecotServer, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    await regpipe.kafka.ensure_topics(kafka_bootstrap)
    mailbox = new_mailbox(imap_server, "kill")
    mails = mailbox_batch(random.Random(31), _MAILS, duplicate_rate=0.05, malformed_rate=0.05)
    env = _env(
        imap_server,
        mailbox,
        kafka_bootstrap,
        pg_dsn,
        IMAP_SECURITY="imaps",
        IMAP_SSL_PORT=str(imap_server.ssl_port),
        IMAP_CA_FILE=str(imap_server.ca_file),
    )
    service = ServiceUnderTest("imap_parser", env, tmp_path)
    kills: list[tuple[int, int]] = []  # (records on Kafka, messages processed) at each kill
    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        service.start()
        try:
            await _wait_log(service, "imap mailbox reading")
            started = time.monotonic()
            feeding = asyncio.create_task(_feed(mailbox, [mail.message for mail in mails]))
            for threshold in (_MAILS // 5, _MAILS // 2):
                await raw.wait_for(threshold, timeout_s=60)
                service.kill()
                processed = await stored(mailbox, "Processed")
                on_kafka = {record.value for record in await raw.drain()}
                # The guarantee: whatever was moved is on Kafka (acknowledged before the move).
                assert {message.data for message in processed} <= on_kafka
                kills.append((len(raw.records), len(processed)))
                service.start()
            await feeding
            await raw.wait_for(len(mails), timeout_s=90)
            await _until_empty(mailbox)
            elapsed = time.monotonic() - started
            await raw.drain()
        finally:
            exit_code = service.stop()
    assert exit_code == 0, service.log[-3000:]
    published = [record.value for record in raw.records]
    assert set(published) == {mail.message for mail in mails}  # nothing missing
    assert len(await stored(mailbox, "Processed")) == len(mails)
    assert all(0 < processed < len(mails) for _, processed in kills), f"not killed mid-stream: {kills}"
    print(
        f"{len(mails)} mails ({sum(m.kind is MailKind.MALFORMED for m in mails)} malformed), "
        f"{len(published)} records ({len(published) - len(mails)} re-published after kills at {kills}), "
        f"{elapsed:.1f} s including two restarts"
    )


async def test_two_replicas_one_reader_and_failover(
    imap_server: DovecotServer, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    await regpipe.kafka.ensure_topics(kafka_bootstrap)
    mailbox = new_mailbox(imap_server, "replicas")
    ports = [free_port(), free_port()]
    replicas = []
    for index, port in enumerate(ports):
        folder = tmp_path / f"replica{index}"
        folder.mkdir()
        env = _env(imap_server, mailbox, kafka_bootstrap, pg_dsn, HEALTH_HOST="127.0.0.1", HEALTH_PORT=str(port))
        replicas.append(ServiceUnderTest("imap_parser", env, folder))
    first, second = replicas
    try:
        first.start()
        await _wait_log(first, "imap mailbox reading")
        second.start()
        await _wait_ready(ports[1])
        async with RawTail(kafka_bootstrap, mailbox.username) as raw:
            batch = mailbox_batch(random.Random(32), 30)
            await deliver(mailbox, [mail.message for mail in batch])
            await raw.wait_for(len(batch))
            await asyncio.sleep(0.5)
            await raw.poll()
            assert sorted(record.value for record in raw.records) == sorted(mail.message for mail in batch)
            assert await _published(ports[0], mailbox.username) == len(batch)
            assert await _published(ports[1], mailbox.username) == 0
            assert "imap mailbox reading" not in second.log

            first.kill()
            await _wait_log(second, "imap mailbox reading", timeout_s=90)  # after the killed leader's TTL
            later = mailbox_batch(random.Random(33), 10)
            await deliver(mailbox, [mail.message for mail in later])
            await raw.wait_for(len(batch) + len(later))
        assert await _published(ports[1], mailbox.username) == len(later)
    finally:
        for replica in replicas:
            replica.stop()


async def test_a_wrong_password_exits_with_a_clear_error_and_publishes_nothing(
    imap_server: DovecotServer, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    await regpipe.kafka.ensure_topics(kafka_bootstrap)
    mailbox = new_mailbox(imap_server, "wrongpw")
    mails = mailbox_batch(random.Random(34), 3)
    await deliver(mailbox, [mail.message for mail in mails])
    service = ServiceUnderTest(
        "imap_parser", _env(imap_server, mailbox, kafka_bootstrap, pg_dsn, IMAP_PASSWORD="not-it"), tmp_path
    )
    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        service.start()
        try:
            deadline = time.monotonic() + 30
            while service.returncode is None and time.monotonic() < deadline:  # noqa: ASYNC110 -- a child process has no event to await
                await asyncio.sleep(0.1)
        finally:
            service.stop()
        assert await raw.drain() == []
    assert service.returncode == 2, service.log[-3000:]
    assert "imap parser cannot run: fix its settings" in service.log
    assert f"IMAP login refused for {mailbox.username}" in service.log
    assert "not-it" not in service.log
    assert len(await stored(mailbox)) == len(mails)


async def test_each_published_mail_is_logged_with_the_ingest_id_of_its_raw_record(
    imap_server: DovecotServer, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    await regpipe.kafka.ensure_topics(kafka_bootstrap)
    mailbox = new_mailbox(imap_server, "logids")
    mails = mailbox_batch(random.Random(35), 16, duplicate_rate=0.2, malformed_rate=0.25, noise_rate=0.2)
    notifications = [mail for mail in mails if mail.kind is not MailKind.NOISE]
    assert any(mail.kind is MailKind.MALFORMED for mail in notifications)
    await deliver(mailbox, [mail.message for mail in mails])
    service = ServiceUnderTest("imap_parser", _env(imap_server, mailbox, kafka_bootstrap, pg_dsn), tmp_path)
    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        service.start()
        try:
            await raw.wait_for(len(notifications), timeout_s=60)
            await _wait_log(service, "imap scan done")
        finally:
            exit_code = service.stop()
        await raw.drain()
    assert exit_code == 0, service.log[-3000:]
    assert len(raw.records) == len(notifications)
    # The id a log line names the mail by until its event has a canonical id is the one its raw record carries.
    on_kafka = {
        (r.headers.provider_event_id, str(r.headers.ingest_id), r.key, r.partition, r.offset) for r in raw.records
    }
    published = service.log_lines("raw record published")
    logged = {
        (line["provider_event_id"], line["ingest_id"], line["raw_key"], line["raw_partition"], line["raw_offset"])
        for line in published
    }
    assert logged == on_kafka
    ingest_ids = {ingest_id for _, ingest_id, *_ in on_kafka}
    unextractable = service.log_lines(
        "imap notification published without a readable event; the normalizer will quarantine it"
    )
    assert len(unextractable) == sum(mail.kind is MailKind.MALFORMED for mail in notifications)
    assert {line["ingest_id"] for line in unextractable} <= ingest_ids


async def _feed(mailbox: MailboxTarget, messages: list[bytes]) -> None:
    """Deliver in chunks, so that mail keeps arriving while the parser is killed and restarted."""
    for start in range(0, len(messages), _CHUNK):
        await deliver(mailbox, messages[start : start + _CHUNK])
        await asyncio.sleep(0.05)


async def _until_empty(mailbox: MailboxTarget, timeout_s: float = 60) -> None:
    async with asyncio.timeout(timeout_s):
        while await stored(mailbox):  # noqa: ASYNC110 -- the mailbox has no event to await
            await asyncio.sleep(0.2)


async def _wait_ready(port: int, timeout_s: float = 60) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(timeout_s):
        while True:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def _published(port: int, account: str) -> float:
    """regpipe_imap_messages_total{outcome="published"} of one replica, from its /metrics."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    wanted = f'regpipe_imap_messages_total{{account="{account}",outcome="published"}} '
    for line in text.splitlines():
        if line.startswith(wanted):
            return float(line.removeprefix(wanted))
    return 0.0
