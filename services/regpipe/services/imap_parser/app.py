"""Wires the IMAP parser: one producer, the mailbox's lease, the OpenSRS mail classifier, the supervisor, the
runtime."""

from __future__ import annotations

import asyncio

from regpipe.contract.sealing import RawSealer, parse_keyring
from regpipe.contract.taxonomy import Source
from regpipe.imap import (
    ImapConfig,
    MailboxIngestor,
    MailboxPolicy,
    MailboxSupervisor,
    ReaderState,
    ReconnectPolicy,
    lease_name,
)
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.producer import create_producer
from regpipe.leadership.lease import AdvisoryLease
from regpipe.providers.opensrs.email import NotificationMailClassifier
from regpipe.runtime import run_worker
from regpipe.services.imap_parser.settings import ImapParserSettings

SERVICE = "imap-parser"


def imap_config(settings: ImapParserSettings) -> ImapConfig:
    """The connection settings (raises `ImapConfigError` for plain IMAP that is not explicitly allowed)."""
    return ImapConfig(
        host=settings.imap_host,
        port=settings.effective_imap_port,
        username=settings.imap_username,
        password=settings.imap_password.get_secret_value(),
        security=settings.imap_security,
        ca_file=settings.imap_ca_file,
        allow_plain=settings.imap_allow_plain,
        timeout_s=settings.imap_timeout_s,
    )


def mailbox_policy(settings: ImapParserSettings) -> MailboxPolicy:
    """What to read and where processed and ignored mail goes."""
    return MailboxPolicy(
        mailbox=settings.imap_mailbox,
        processed_folder=settings.imap_processed_folder,
        ignored_folder=settings.imap_ignored_folder,
        mark=settings.imap_mark,
        processed_keyword=settings.imap_processed_keyword,
        use_idle=settings.imap_use_idle,
        idle_renew_s=settings.imap_idle_renew_s,
        poll_interval_s=settings.imap_poll_interval_s,
        batch_size=settings.imap_batch_size,
    )


def _sealer(settings: ImapParserSettings) -> RawSealer | None:
    if settings.raw_seal_keys is None:
        return None
    return RawSealer(parse_keyring(settings.raw_seal_keys.get_secret_value()), settings.raw_seal_active_key)


async def run(settings: ImapParserSettings) -> None:
    """Run the parser until SIGTERM/SIGINT; raises `ImapAuthError`/`ImapConfigError` when it cannot work."""
    imap = imap_config(settings)
    policy = mailbox_policy(settings)
    producer = create_producer(settings.kafka_bootstrap_servers, client_id=f"{SERVICE}-{imap.account}")
    publisher = RawPublisher(producer, sealer=_sealer(settings))
    reconnect = ReconnectPolicy(
        backoff_initial_s=settings.imap_backoff_initial_s,
        backoff_max_s=settings.imap_backoff_max_s,
        lease_check_interval_s=settings.lease_check_interval_s,
        shutdown_grace_s=settings.shutdown_grace_s,
    )
    started = asyncio.Event()
    supervisor: MailboxSupervisor | None = None

    def ready() -> str | None:
        if not started.is_set():
            return "kafka producer not started"
        if supervisor is None or supervisor.state is ReaderState.STARTING:
            return "lease state not known yet"
        return None

    async def work(stop: asyncio.Event) -> None:
        nonlocal supervisor
        lease = AdvisoryLease(
            settings.postgres_dsn.get_secret_value(),
            lease_name(imap),
            service=SERVICE,
            retry_interval_s=settings.lease_retry_interval_s,
            stop=stop,
        )
        ingestor = MailboxIngestor(
            policy=policy,
            publisher=publisher,
            classifier=NotificationMailClassifier(),
            source=Source.OPENSRS,
            account=imap.username,
        )
        supervisor = MailboxSupervisor(imap, ingestor, lease=lease, reconnect=reconnect)
        await producer.start()
        started.set()
        try:
            await supervisor.run(stop)
        finally:
            await producer.stop()

    await run_worker(SERVICE, work, ready=ready, health_host=settings.health_host, health_port=settings.health_port)
