"""Reads one mailbox over an open connection: publishes every notification's whole RFC 822 bytes as a raw record,
and only once Kafka acknowledged it moves (or flags) the message out of the way; other mail is left or set aside.

The mailbox is the state: a message still in the inbox (or not yet flagged) is not known to be on Kafka, so after
a crash or restart it is simply read and published again (at-least-once; the deduplicator removes the copies).
Nothing is ever deleted, and a notification whose event cannot be extracted is published all the same (the
normalizer quarantines it with its reason). A notification that cannot be published at all (over the size limit,
refused by the broker as too large, or one that breaks or outlasts identification) is moved to the rejected folder,
counted and logged without its content: retrying it could only fail again and would block the mailbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError

from regpipe.contract.raw import EmailAuth
from regpipe.contract.taxonomy import Source, Transport
from regpipe.imap.authentication import SenderAuthentication
from regpipe.imap.config import MailboxPolicy, MarkMode
from regpipe.imap.connection import ImapConnection
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.errors import PublishError
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import IMAP_MESSAGES, INGEST_PUBLISH_FAILED, INGEST_PUBLISHED, INGEST_REJECTED

__all__ = ["CONTENT_TYPE", "Guard", "MailClassifier", "MailIdentity", "MailboxIngestor", "Rejection", "ScanReport"]

_log = get_logger(__name__)

#: The content type of the raw records: a whole e-mail.
CONTENT_TYPE = "message/rfc822"
#: Awaited before each batch; raises to stop reading (e.g. when the lease is lost).
Guard = Callable[[], Awaitable[None]]
_HEADER = "BODY.PEEK[HEADER]"
_WHOLE = "BODY.PEEK[]"  # PEEK: reading must not mark the mail \Seen for the humans sharing the mailbox
_TOO_LARGE = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)


class Rejection(StrEnum):
    """Why a notification was set aside in the rejected folder instead of published (the metrics' `reason`)."""

    OVERSIZED = "oversized"  # over `max_message_bytes`, or refused by the broker as too large
    UNREADABLE = "unreadable"  # identification raised, or took longer than `identify_timeout_s`


class MailIdentity(Protocol):
    """What the raw record's headers say about one e-mail."""

    @property
    def provider_event_id(self) -> str | None: ...

    @property
    def provider_event_type(self) -> str | None: ...

    @property
    def extracted(self) -> bool: ...

    @property
    def problem(self) -> str | None: ...

    @property
    def readable(self) -> bool:
        """False when the mail could not even be read (it is set aside, not published)."""
        ...


class MailClassifier(Protocol):
    """The provider-specific part: which mail to publish, and under which event id and type."""

    def wants(self, header: bytes) -> bool:
        """True when the message with this header block is to be published."""
        ...

    def identify(self, message: bytes) -> MailIdentity:
        """Event id and type of a wanted message; must not raise for odd content (the ingestor sets aside a message
        whose identification raises all the same, rather than stop)."""
        ...


@dataclass(frozen=True, slots=True)
class ScanReport:
    """What one scan did."""

    published: int = 0
    ignored: int = 0
    rejected: int = 0

    @property
    def handled(self) -> int:
        """Messages published or set aside."""
        return self.published + self.ignored + self.rejected


class MailboxIngestor:
    """Scans and watches one mailbox over a connection the caller opens, prepares and closes.

    A `guard` given to `run` or `scan` is awaited before each batch and must raise to stop reading (the lease check).
    """

    def __init__(
        self,
        *,
        policy: MailboxPolicy,
        publisher: RawPublisher,
        classifier: MailClassifier,
        source: Source,
        account: str,
        authentication: SenderAuthentication | None = None,
    ) -> None:
        self._policy = policy
        # Every published mail carries a verdict; with nothing trusted (None) every one is `unverified`.
        self._authentication = authentication or SenderAuthentication()
        self._publisher = publisher
        self._classifier = classifier
        self._source = source
        self._account = account
        # Mail left in place because it is no notification: seen once per UIDVALIDITY, then skipped.
        self._left_alone: set[int] = set()
        self._uidvalidity: int | None = None

    async def prepare(self, connection: ImapConnection) -> None:
        """Create the target folders if needed and SELECT the mailbox."""
        if self._policy.mark is MarkMode.MOVE:
            await connection.create_folder(self._policy.processed_folder)
        if self._policy.ignored_folder is not None:
            await connection.create_folder(self._policy.ignored_folder)
        await connection.create_folder(self._policy.rejected_folder)
        uidvalidity = await connection.select(self._policy.mailbox)
        if uidvalidity != self._uidvalidity:
            self._left_alone.clear()  # UIDs of another mailbox generation mean other messages
            self._uidvalidity = uidvalidity

    async def run(self, connection: ImapConnection, stop: asyncio.Event, guard: Guard | None = None) -> None:
        """Scan, then wait for news (IDLE, else polling) and scan again, until `stop`. Call `prepare` first.

        Returns between batches once `stop` is set; raises on connection loss or when Kafka does not acknowledge.
        """
        idle = self._policy.use_idle and connection.has("IDLE")
        _log.info(
            "imap mailbox reading",
            account=self._account,
            mailbox=self._policy.mailbox,
            idle=idle,
            tls=connection.tls_version,
        )
        while not stop.is_set():
            announced = connection.exists_seen
            report = await self.scan(connection, stop, guard)
            if report.handled or connection.exists_seen != announced:
                continue  # mail may have arrived while scanning: look again before waiting
            if idle:
                await connection.wait_for_news(self._policy.idle_renew_s, stop)
            else:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self._policy.poll_interval_s)
                except TimeoutError:
                    continue

    async def scan(
        self, connection: ImapConnection, stop: asyncio.Event | None = None, guard: Guard | None = None
    ) -> ScanReport:
        """Handle every message currently waiting, in batches (stopping between two once `stop` is set)."""
        criteria = ["UNDELETED"]
        if self._policy.mark is MarkMode.FLAG:
            criteria += ["UNKEYWORD", self._policy.processed_keyword]
        waiting = [uid for uid in await connection.search(*criteria) if uid not in self._left_alone]
        totals = ScanReport()
        size = self._policy.batch_size
        for start in range(0, len(waiting), size):
            if stop is not None and stop.is_set():
                break
            if guard is not None:
                await guard()
            batch = await self._batch(connection, waiting[start : start + size])
            totals = ScanReport(
                published=totals.published + batch.published,
                ignored=totals.ignored + batch.ignored,
                rejected=totals.rejected + batch.rejected,
            )
        if totals.handled:
            _log.info(
                "imap scan done",
                account=self._account,
                published=totals.published,
                ignored=totals.ignored,
                rejected=totals.rejected,
            )
        return totals

    async def _batch(self, connection: ImapConnection, uids: list[int]) -> ScanReport:
        headers = await connection.fetch(uids, _HEADER)
        # A message missing from the answer has an empty header (or was just expunged): not a notification.
        verdicts = {uid: self._wants(uid, headers.get(uid, b"")) for uid in uids}
        rejected = [uid for uid in uids if verdicts[uid] is None]
        wanted = [uid for uid in uids if verdicts[uid]]
        unwanted = [uid for uid in uids if verdicts[uid] is False]
        if unwanted:
            await self._set_aside(connection, unwanted)
        if wanted:
            messages = await connection.fetch(wanted, _WHOLE)
            present = [uid for uid in wanted if uid in messages]  # others were expunged meanwhile by someone else
            outcomes = await asyncio.gather(
                *(self._publish(uid, messages[uid]) for uid in present), return_exceptions=True
            )
        else:
            present, outcomes = [], []
        acknowledged = [uid for uid, outcome in zip(present, outcomes, strict=True) if outcome is None]
        rejected += [uid for uid, outcome in zip(present, outcomes, strict=True) if isinstance(outcome, Rejection)]
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if acknowledged:
            await self._mark_processed(connection, acknowledged)
        if rejected:
            await connection.move(rejected, self._policy.rejected_folder)
        # A bug (anything but a publish failure) outranks weather: stop rather than go on.
        failures.sort(key=lambda failure: isinstance(failure, PublishError))
        if failures:
            raise failures[0]
        return ScanReport(published=len(acknowledged), ignored=len(unwanted), rejected=len(rejected))

    def _wants(self, uid: int, header: bytes) -> bool | None:
        """The classifier's verdict on a header block; None (reject) when the header breaks the classifier."""
        try:
            return self._classifier.wants(header)
        except Exception as exc:  # noqa: BLE001 - any failure on one mail's content sets that mail aside, counted
            self._count_rejected(uid, len(header), Rejection.UNREADABLE, type(exc).__name__)
            return None

    async def _publish(self, uid: int, message: bytes) -> Rejection | None:
        """Publish one notification; a `Rejection` when it cannot be, raises `PublishError` when Kafka is away."""
        policy = self._policy
        if len(message) > policy.max_message_bytes:
            return self._count_rejected(uid, len(message), Rejection.OVERSIZED, "over max_message_bytes")
        try:
            # A worker thread: a pathological mail must not hold the event loop (lease checks, IDLE) while it is read.
            async with asyncio.timeout(policy.identify_timeout_s):
                identity, email_auth = await asyncio.to_thread(self._read, message)
        except TimeoutError:
            return self._count_rejected(uid, len(message), Rejection.UNREADABLE, "identify_timeout")
        except Exception as exc:  # noqa: BLE001 - a classifier failing on one mail sets that mail aside, counted
            return self._count_rejected(uid, len(message), Rejection.UNREADABLE, type(exc).__name__)
        if not identity.readable:
            return self._count_rejected(uid, len(message), Rejection.UNREADABLE, identity.problem or "unreadable")
        try:
            record = await self._publisher.publish(
                message,
                source=self._source,
                transport=Transport.EMAIL,
                content_type=CONTENT_TYPE,
                provider_event_id=identity.provider_event_id,
                provider_event_type=identity.provider_event_type,
                account=self._account,
                email_auth=email_auth,
            )
        except PublishError as exc:
            if isinstance(exc.__cause__, _TOO_LARGE):
                return self._count_rejected(
                    uid,
                    len(message),
                    Rejection.OVERSIZED,
                    type(exc.__cause__).__name__,
                    ingest_id=exc.ingest_id,
                    provider_event_id=identity.provider_event_id,
                )
            INGEST_PUBLISH_FAILED.labels(self._source.value, Transport.EMAIL.value).inc()
            _log.warning(
                "raw record not published",
                account=self._account,
                uid=uid,
                ingest_id=exc.ingest_id,
                provider_event_id=identity.provider_event_id,
                error=str(exc),
            )
            raise
        INGEST_PUBLISHED.labels(self._source.value, Transport.EMAIL.value).inc()
        # The raw record's ingest id names this mail in every later log line until the event has a canonical id.
        _log.info(
            "raw record published",
            account=self._account,
            uid=uid,
            provider_event_id=identity.provider_event_id,
            email_auth=email_auth.value,
            **record.log_fields,
        )
        IMAP_MESSAGES.labels(self._account, "published").inc()
        if email_auth is not EmailAuth.DKIM_PASS:
            IMAP_MESSAGES.labels(self._account, "unverified").inc()  # the normalizer holds its events
        if not identity.extracted:
            IMAP_MESSAGES.labels(self._account, "unextractable").inc()
            _log.warning(
                "imap notification published without a readable event; the normalizer will quarantine it",
                account=self._account,
                uid=uid,
                provider_event_id=identity.provider_event_id,
                problem=identity.problem,
                **record.log_fields,
            )
        return None

    def _read(self, message: bytes) -> tuple[MailIdentity, EmailAuth]:
        return self._classifier.identify(message), self._authentication.verdict(message)

    def _count_rejected(
        self,
        uid: int,
        size: int,
        reason: Rejection,
        detail: str,
        *,
        ingest_id: str | None = None,
        provider_event_id: str | None = None,
    ) -> Rejection:
        # Never the content (not even the subject): it may be hostile or hold secrets. UID and size find it; the
        # ingest id (and event id) only where the broker refused a record that had them.
        IMAP_MESSAGES.labels(self._account, "rejected").inc()
        INGEST_REJECTED.labels(self._source.value, Transport.EMAIL.value, reason.value).inc()
        _log.warning(
            "imap notification set aside in the rejected folder",
            account=self._account,
            uid=uid,
            size=size,
            reason=reason.value,
            detail=detail,
            folder=self._policy.rejected_folder,
            ingest_id=ingest_id,
            provider_event_id=provider_event_id,
        )
        return reason

    async def _mark_processed(self, connection: ImapConnection, uids: list[int]) -> None:
        if self._policy.mark is MarkMode.MOVE:
            await connection.move(uids, self._policy.processed_folder)
        else:
            await connection.add_flags(uids, self._policy.processed_keyword)

    async def _set_aside(self, connection: ImapConnection, uids: list[int]) -> None:
        IMAP_MESSAGES.labels(self._account, "ignored").inc(len(uids))
        INGEST_REJECTED.labels(self._source.value, Transport.EMAIL.value, "not_a_notification").inc(len(uids))
        if self._policy.ignored_folder is not None:
            await connection.move(uids, self._policy.ignored_folder)
        else:
            self._left_alone.update(uids)
