"""One logged-in IMAP connection (IMAPS, STARTTLS, or plain when allowed), on aioimaplib, with the few commands the
parser needs. Every aioimaplib, socket and TLS error is translated into `regpipe.imap.errors` here.

aioimaplib offers no STARTTLS, and drops untagged EXISTS announcements that arrive during non-IDLE commands; both
are handled by a small protocol subclass, so that the parser neither sends a password in clear nor misses mail
announced between its last SEARCH and the next IDLE.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aioimaplib

from regpipe.imap.config import ImapConfig, Security
from regpipe.imap.errors import ImapAuthError, ImapCommandError, ImapConfigError, ImapConnectionError, ImapTlsError
from regpipe.imap.wire import parse_fetch, parse_search, parse_uidvalidity, quote, uid_set
from regpipe.observability.logging import get_logger

__all__ = ["ImapConnection"]

_log = get_logger(__name__)

_EXISTS = re.compile(rb"^\* \d+ EXISTS")
# Transport-level failures aioimaplib lets through: its own, sockets and TLS (OSError), and timeouts.
_TRANSPORT_ERRORS = (aioimaplib.AioImapException, OSError, TimeoutError, EOFError)
_LOGOUT_TIMEOUT_S = 2.0


class _Protocol(aioimaplib.IMAP4ClientProtocol):  # type: ignore[misc]  # aioimaplib is untyped
    """Counts every untagged EXISTS, including those aioimaplib would log and drop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, conn_lost_cb: Callable[[Exception | None], None]) -> None:
        super().__init__(loop, conn_lost_cb)
        self.exists_seen = 0

    def _untagged_response(self, line: bytes) -> Any:
        if _EXISTS.match(line):
            self.exists_seen += 1
        return super()._untagged_response(line)


class _Client(aioimaplib.IMAP4):  # type: ignore[misc]  # aioimaplib is untyped
    """aioimaplib's client, built on `_Protocol`; TLS from the start when given an SSL context."""

    def create_client(
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None,
        conn_lost_cb: Callable[[Exception | None], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        local_loop = loop or asyncio.get_running_loop()
        self.protocol = _Protocol(local_loop, conn_lost_cb or (lambda _exc: None))
        self._client_task = local_loop.create_task(
            local_loop.create_connection(lambda: self.protocol, host, port, ssl=ssl_context)
        )


def _tls_context(config: ImapConfig) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file is not None else None)
    except (OSError, ssl.SSLError) as exc:
        raise ImapConfigError(f"cannot load the CA file {config.ca_file}: {exc}") from exc


def _text(response: Any) -> str:
    lines = [bytes(line) for line in response.lines if isinstance(line, bytes | bytearray)]
    return lines[-1].decode(errors="replace") if lines else ""


class ImapConnection:
    """A logged-in connection; `open()` it, `close()` it (never raises). Not safe for concurrent use."""

    def __init__(self, client: _Client, config: ImapConfig, lost: asyncio.Event) -> None:
        self._client = client
        self._protocol: _Protocol = client.protocol
        self._config = config
        self._lost = lost
        self._capabilities: frozenset[str] = frozenset()

    # -- opening and closing ---------------------------------------------------------------------------------

    @classmethod
    async def open(cls, config: ImapConfig) -> ImapConnection:
        """Connect, protect (IMAPS or STARTTLS), LOGIN; raise `ImapAuthError` when the credentials are refused."""
        lost = asyncio.Event()
        client = _Client(
            host=config.host,
            port=config.effective_port,
            timeout=config.timeout_s,
            conn_lost_cb=lambda _exc: lost.set(),
            ssl_context=_tls_context(config) if config.security is Security.IMAPS else None,
        )
        connection = cls(client, config, lost)
        try:
            await connection._greet()
            if config.security is Security.STARTTLS:
                await connection._starttls(_tls_context(config))
            await connection._login()
        except BaseException:
            connection._abort()
            raise
        return connection

    async def close(self) -> None:
        """LOGOUT (briefly, ending an IDLE first) and drop the connection; never raises."""
        try:
            if not self._lost.is_set():
                if self._client.has_pending_idle():
                    self._client.idle_done()
                await asyncio.wait_for(self._client.logout(), timeout=_LOGOUT_TIMEOUT_S)
        except _TRANSPORT_ERRORS as exc:
            _log.debug("imap logout failed; dropping the connection", error=str(exc))
        finally:
            self._abort()

    def _abort(self) -> None:
        transport = self._protocol.transport
        if transport is not None and not transport.is_closing():
            transport.close()
        if not self._client._client_task.done():
            self._client._client_task.cancel()

    async def _greet(self) -> None:
        where = f"{self._config.host}:{self._config.effective_port}"
        try:
            await self._client.wait_hello_from_server()
        except ssl.SSLError as exc:
            raise ImapTlsError(f"TLS with {where} failed: {exc}") from exc
        except _TRANSPORT_ERRORS as exc:
            raise ImapConnectionError(f"cannot connect to IMAP {where}: {type(exc).__name__}: {exc}") from exc
        self._capabilities = frozenset(self._protocol.capabilities)

    async def _starttls(self, context: ssl.SSLContext) -> None:
        if "STARTTLS" not in self._capabilities:
            raise ImapTlsError(f"{self._config.host} does not offer STARTTLS; refusing to log in unencrypted")
        command = aioimaplib.Command("STARTTLS", self._protocol.new_tag(), loop=self._protocol.loop)
        await self._call(self._protocol.execute(command), "STARTTLS")
        loop = asyncio.get_running_loop()
        try:
            transport = await asyncio.wait_for(
                loop.start_tls(self._protocol.transport, self._protocol, context, server_hostname=self._config.host),
                timeout=self._config.timeout_s,
            )
        except ssl.SSLError as exc:
            raise ImapTlsError(f"STARTTLS with {self._config.host} failed: {exc}") from exc
        except _TRANSPORT_ERRORS as exc:
            raise ImapConnectionError(f"STARTTLS with {self._config.host} failed: {exc}") from exc
        self._protocol.transport = transport
        # Capabilities seen before TLS may have been tampered with (RFC 3501 6.2.1): ask again.
        await self._call(self._protocol.capability(), "CAPABILITY", check=False)
        self._capabilities = frozenset(self._protocol.capabilities)

    async def _login(self) -> None:
        if "LOGINDISABLED" in self._capabilities:
            raise ImapConfigError(f"{self._config.host} refuses LOGIN on this connection; use imaps or starttls")
        response = await self._call(
            self._client.login(quote(self._config.username), self._config.password), "LOGIN", check=False
        )
        if response.result != "OK":
            text = _text(response)
            if "[UNAVAILABLE]" in text:
                raise ImapConnectionError(f"IMAP login temporarily unavailable: {text}")
            raise ImapAuthError(f"IMAP login refused for {self._config.account}: {text}")
        await self._call(self._protocol.capability(), "CAPABILITY", check=False)
        self._capabilities = frozenset(self._protocol.capabilities)

    # -- state ----------------------------------------------------------------------------------------------

    def has(self, capability: str) -> bool:
        """True when the server offers `capability` (and the configuration does not ignore it)."""
        return capability in self._capabilities and capability not in self._config.ignore_capabilities

    @property
    def closed(self) -> bool:
        """True once the connection was closed by either side."""
        transport = self._protocol.transport
        return self._lost.is_set() or transport is None or bool(transport.is_closing())

    @property
    def tls_version(self) -> str | None:
        """The TLS version protecting the connection (e.g. `TLSv1.3`); None when it is plain."""
        transport = self._protocol.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        return None if ssl_object is None else str(ssl_object.version())

    @property
    def exists_seen(self) -> int:
        """How many EXISTS announcements arrived so far: a change means new mail may have come in."""
        return self._protocol.exists_seen

    # -- commands -------------------------------------------------------------------------------------------

    async def select(self, mailbox: str) -> int:
        """SELECT `mailbox` read-write; return its UIDVALIDITY (0 if the server gave none)."""
        response = await self._call(self._client.select(quote(mailbox)), f"SELECT {mailbox}")
        return parse_uidvalidity(response.lines) or 0

    async def create_folder(self, name: str) -> None:
        """CREATE `name` unless it exists already."""
        response = await self._call(self._client.create(quote(name)), f"CREATE {name}", check=False)
        if response.result != "OK" and "[ALREADYEXISTS]" not in _text(response):
            # Servers without RFC 5530 codes: trust a LIST that shows the folder.
            listed = await self._call(self._client.list('""', quote(name)), f"LIST {name}")
            if not any(listed.lines[:-1]):
                raise ImapCommandError(f"CREATE {name}", response.result, _text(response))

    async def search(self, *criteria: str) -> list[int]:
        """UID SEARCH (US-ASCII criteria); the matching UIDs in ascending order."""
        response = await self._call(self._client.uid_search(*criteria, charset=None), "UID SEARCH")
        return sorted(parse_search(response.lines))

    async def fetch(self, uids: Iterable[int], section: str) -> dict[int, bytes]:
        """UID FETCH one body section (e.g. `BODY.PEEK[]`, which leaves \\Seen alone) -> {uid: bytes}."""
        response = await self._call(self._client.uid("fetch", uid_set(uids), f"(UID {section})"), "UID FETCH")
        return parse_fetch(response.lines)

    async def move(self, uids: Iterable[int], folder: str) -> None:
        """Move messages to `folder`: UID MOVE, else COPY + \\Deleted + UID EXPUNGE (only these UIDs).

        Without UIDPLUS the copies' originals stay flagged \\Deleted (a plain EXPUNGE would also remove mail
        someone else deleted); the parser's searches skip deleted messages.
        """
        selection = uid_set(uids)
        if self.has("MOVE"):
            await self._call(self._client.uid("move", selection, quote(folder)), "UID MOVE")
            return
        await self._call(self._client.uid("copy", selection, quote(folder)), "UID COPY")
        await self.add_flags(uids, "\\Deleted")
        if self.has("UIDPLUS"):
            await self._call(self._client.uid("expunge", selection), "UID EXPUNGE")

    async def add_flags(self, uids: Iterable[int], *flags: str) -> None:
        """UID STORE +FLAGS.SILENT."""
        await self._call(self._client.uid("store", uid_set(uids), "+FLAGS.SILENT", f"({' '.join(flags)})"), "UID STORE")

    async def wait_for_news(self, timeout_s: float, stop: asyncio.Event | None = None) -> None:
        """IDLE until the server announces a change (new mail, expunges, flags), `timeout_s` passes or `stop` is set."""
        queue: asyncio.Queue[Any] = self._protocol.idle_queue
        while not queue.empty():  # announcements of an earlier IDLE: the caller has scanned since
            queue.get_nowait()
        # aioimaplib's own IDLE timer is pushed past ours, so that this method alone decides when IDLE ends.
        idle = await self._call(self._client.idle_start(timeout=timeout_s + 60), "IDLE", check=False)
        waiters = {asyncio.ensure_future(queue.get()), asyncio.ensure_future(self._lost.wait())}
        if stop is not None:
            waiters.add(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if self._lost.is_set():
            raise ImapConnectionError(f"IMAP connection to {self._config.host} lost while idling")
        self._client.idle_done()
        await self._call(idle, "IDLE")

    # -- plumbing -------------------------------------------------------------------------------------------

    async def _call(self, operation: Awaitable[Any], what: str, *, check: bool = True) -> Any:
        """Await an aioimaplib operation, failing fast when the connection drops; NO/BAD -> ImapCommandError."""
        task = asyncio.ensure_future(operation)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {task, lost}, timeout=self._config.timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
        if task not in done:
            if self._lost.is_set():
                raise ImapConnectionError(f"IMAP connection to {self._config.host} lost during {what}")
            raise ImapConnectionError(f"IMAP {what}: no answer within {self._config.timeout_s} s")
        try:
            response = task.result()
        except ssl.SSLError as exc:
            raise ImapTlsError(f"IMAP {what}: TLS failure: {exc}") from exc
        except _TRANSPORT_ERRORS as exc:
            raise ImapConnectionError(f"IMAP {what} failed: {type(exc).__name__}: {exc}") from exc
        if check and response is not None and response.result != "OK":
            raise ImapCommandError(what, response.result, _text(response))
        return response
