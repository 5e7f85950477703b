"""Wires the IMAP parser: the mailbox's lease, the OpenSRS mail classifier and the supervisor, under the ingest
runtime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from regpipe.contract.taxonomy import Source
from regpipe.imap import (
    ImapConfig,
    MailboxIngestor,
    MailboxPolicy,
    MailboxSupervisor,
    ReconnectPolicy,
    SenderAuthentication,
    lease_name,
)
from regpipe.ingest.publisher import RawPublisher
from regpipe.providers.opensrs.email import NotificationMailClassifier
from regpipe.runtime import run_ingest_worker
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
        rejected_folder=settings.imap_rejected_folder,
        max_message_bytes=settings.imap_max_message_bytes,
        identify_timeout_s=settings.imap_identify_timeout_s,
        mark=settings.imap_mark,
        processed_keyword=settings.imap_processed_keyword,
        use_idle=settings.imap_use_idle,
        idle_renew_s=settings.imap_idle_renew_s,
        poll_interval_s=settings.imap_poll_interval_s,
        batch_size=settings.imap_batch_size,
    )


async def run(settings: ImapParserSettings) -> None:
    """Run the parser until SIGTERM/SIGINT; raises `ImapAuthError`/`ImapConfigError` when it cannot work."""
    imap = imap_config(settings)
    policy = mailbox_policy(settings)
    authentication = SenderAuthentication(
        trusted_authserv_ids=frozenset(settings.imap_auth_trusted_authserv_ids),
        signing_domains=frozenset(settings.imap_auth_signing_domains),
    )
    reconnect = ReconnectPolicy(
        backoff_initial_s=settings.imap_backoff_initial_s,
        backoff_max_s=settings.imap_backoff_max_s,
        lease_check_interval_s=settings.lease_check_interval_s,
        shutdown_grace_s=settings.shutdown_grace_s,
    )

    @asynccontextmanager
    async def supervisor(publisher: RawPublisher, stop: asyncio.Event) -> AsyncIterator[MailboxSupervisor]:
        ingestor = MailboxIngestor(
            policy=policy,
            publisher=publisher,
            classifier=NotificationMailClassifier(),
            source=Source.OPENSRS,
            account=imap.username,
            authentication=authentication,
        )
        lease = settings.lease(lease_name(imap), service=SERVICE, stop=stop)
        yield MailboxSupervisor(imap, ingestor, lease=lease, reconnect=reconnect)

    await run_ingest_worker(SERVICE, settings, supervisor, client_id=f"{SERVICE}-{imap.account}")
