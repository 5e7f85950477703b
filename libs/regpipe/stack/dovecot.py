"""A private Dovecot IMAP server (Debian `dovecot-imapd`): plain IMAP and IMAPS on loopback ports.

Tests deliver mail with IMAP APPEND, so the mailbox behaves like a real provider's inbox.
The TLS certificate is made for the run; clients trust it through `ca_file`.
"""

from __future__ import annotations

import asyncio
import imaplib
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from regpipe.stack.access import require_traversable
from regpipe.stack.errors import ServerStartError, StackError
from regpipe.stack.ports import free_ports
from regpipe.stack.server import LocalServer, log_tail
from regpipe.stack.tls import TlsFiles, make_tls_files

__all__ = ["DovecotServer", "ImapUser"]

_STOP_GRACE_SECONDS = 10.0
# The user name doubles as a file name, and neither may hold a passwd-file field separator.
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+@-]*")
_PASSWORD = re.compile(r"[^:\s]+")
_LOGIN_USER = "dovenull"
_INTERNAL_USER = "dovecot"
# Dovecot never runs mail processes as uid 0 ("userdb returned 0 as uid", hard-coded whatever
# first_valid_uid says), so as root the mailboxes belong to Debian's stock `mail` user.
_ROOT_MAIL_USER = "mail"


class _MailboxBrokenError(Exception):
    """Login succeeded but mailbox access failed: a configuration error, not worth retrying."""


@dataclass(frozen=True, slots=True)
class ImapUser:
    """Login credentials of one mailbox."""

    username: str
    password: str


class DovecotServer(LocalServer):
    """One Dovecot master process (run in the foreground as our child), all state under `base_dir`.

    With `base_dir=None` a temp dir is used and deleted by `stop()`. One user is created up
    front (`events@example.test` with a random password); `add_user()` adds more at any time,
    since Dovecot re-reads the passwd-file when it changes. `tls=False` (or no way to make a
    certificate) leaves out the IMAPS listener: `ssl_port` and `ca_file` are then None.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        base_dir: Path | None = None,
        *,
        username: str = "events@example.test",
        password: str | None = None,
        tls: bool = True,
        ready_timeout: float = 30.0,
    ) -> None:
        self._owns_base_dir = base_dir is None
        self.base_dir = (base_dir or Path(tempfile.mkdtemp(prefix="regpipe-imap-"))).resolve()
        self._want_tls = tls
        self._ready_timeout = ready_timeout
        self.port, self._tls_port = free_ports(2)
        self._tls: TlsFiles | None = None
        self._users: dict[str, ImapUser] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self.default_user = self.add_user(username, password)

    @property
    def ssl_port(self) -> int | None:
        """The IMAPS port, or None when TLS is off."""
        return self._tls_port if self._tls is not None else None

    @property
    def ca_file(self) -> Path | None:
        """PEM file of the CA that signed the server certificate, or None when TLS is off."""
        return self._tls.ca_file if self._tls is not None else None

    @property
    def users(self) -> dict[str, ImapUser]:
        """All mailboxes by user name (a copy)."""
        return dict(self._users)

    @property
    def config_file(self) -> Path:
        """The generated `dovecot.conf`."""
        return self.base_dir / "dovecot.conf"

    @property
    def log_file(self) -> Path:
        """Dovecot's own log (errors and info)."""
        return self.base_dir / "dovecot.log"

    def add_user(self, username: str, password: str | None = None) -> ImapUser:
        """Create a mailbox user (a random password when none is given); works while running.

        Changing an existing user's password takes up to a second to be seen by Dovecot.
        """
        if not _USERNAME.fullmatch(username) or (password is not None and not _PASSWORD.fullmatch(password)):
            raise StackError(f"user name or password unusable in a passwd-file: {username!r}")
        user = ImapUser(username=username, password=password or secrets.token_urlsafe(12))
        self._write_user(user)
        self._users[username] = user
        return user

    def start(self) -> None:
        """Write the configuration and launch `dovecot -F`; `await wait_ready()` next."""
        if self._process is not None and self._process.poll() is None:
            raise StackError(f"Dovecot is already running on port {self.port}")
        dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(dovecot).exists():
            raise ServerStartError("`dovecot` not found: run scripts/bootstrap.sh (it installs `dovecot-imapd`)")
        for folder in ("run", "state", "home"):
            (self.base_dir / folder).mkdir(parents=True, exist_ok=True)
        owner = self._mail_owner()
        if os.getuid() == 0:
            require_traversable(self.base_dir, owner.pw_name)
        # Mail processes run as the mail owner and create each user's home below this folder.
        os.chown(self.base_dir / "home", owner.pw_uid, owner.pw_gid)
        if self._want_tls and self._tls is None:
            self._tls = make_tls_files(self.base_dir / "tls", hosts=[self.host, "localhost"])
        self.config_file.write_text(self._config())
        with (self.base_dir / "stdout.log").open("ab") as out:
            self._process = subprocess.Popen(
                [dovecot, "-F", "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self) -> None:
        """Wait until an IMAP LOGIN of the default user succeeds on the plain port."""
        deadline = time.monotonic() + self._ready_timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            if self._process is None:
                raise StackError("Dovecot was not started: call start() first")
            if self._process.poll() is not None:
                raise self._start_error(f"dovecot exited with code {self._process.returncode}")
            try:
                await asyncio.to_thread(self._login_once)
            except _MailboxBrokenError as error:
                raise self._start_error(f"login worked but the mailbox did not: {error}") from error
            except (OSError, imaplib.IMAP4.error) as error:
                last_error = error
                await asyncio.sleep(0.2)
            else:
                return
        raise self._start_error(f"no IMAP login within {self._ready_timeout} s (last error: {last_error!r})")

    def stop(self) -> None:
        """`doveadm stop` (SIGTERM to the master), SIGKILL after 10 s; deletes an owned temp dir."""
        process = self._process
        if process is not None and process.poll() is None:
            doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
            result = subprocess.run(
                [doveadm, "-c", str(self.config_file), "stop"], capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                process.send_signal(signal.SIGTERM)  # doveadm could not reach the master: signal it
            try:
                process.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None
        if self._owns_base_dir and self.base_dir.exists():
            shutil.rmtree(self.base_dir)

    def _login_once(self) -> None:
        user = self.default_user
        with imaplib.IMAP4(self.host, self.port, timeout=5) as client:
            _status, lines = client.login(user.username, user.password)
            # A misconfigured mail user still logs in, then fails on every mailbox command.
            if any(b"initialization failed" in line for line in lines if isinstance(line, bytes)):
                raise _MailboxBrokenError(b" ".join(lines).decode(errors="replace"))
            status, answer = client.select("INBOX")
            if status != "OK":
                raise _MailboxBrokenError(f"SELECT INBOX answered {status}: {answer!r}")

    def _write_user(self, user: ImapUser) -> None:
        # One passwd-file per user: Dovecot re-reads a changed passwd-file at most once a second,
        # but opens a file it has not seen yet at once, so a user added mid-test can log in at once.
        folder = self.base_dir / "users"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / user.username
        temporary = folder / f".{user.username}.tmp"
        temporary.write_text(f"{user.username}:{{PLAIN}}{user.password}\n")
        temporary.chmod(0o640)
        if os.getuid() == 0:
            # Dovecot's auth process reads the files as its internal user: let its group read them,
            # and let it traverse (not list) our folder, which mkdtemp made 0700.
            shutil.chown(temporary, group=_INTERNAL_USER)
            shutil.chown(folder, group=_INTERNAL_USER)
            folder.chmod(0o750)
            self.base_dir.chmod(0o711)
        temporary.replace(target)  # atomic: Dovecot never reads a half-written file

    def _mail_owner(self) -> pwd.struct_passwd:
        if os.getuid() != 0:
            return pwd.getpwuid(os.getuid())
        try:
            return pwd.getpwnam(_ROOT_MAIL_USER)
        except KeyError as error:
            raise ServerStartError(f"running as root needs the `{_ROOT_MAIL_USER}` system user") from error

    def _config(self) -> str:
        me = pwd.getpwuid(os.getuid())
        mail_owner = self._mail_owner()
        # As root, Dovecot's own unprivileged users; otherwise it can only run everything as us.
        login_user, internal_user = (_LOGIN_USER, _INTERNAL_USER) if os.getuid() == 0 else (me.pw_name, me.pw_name)
        tls = self._tls
        if tls is not None:
            ssl_settings = f"ssl = yes\nssl_cert = <{tls.cert_file}\nssl_key = <{tls.key_file}\n"
            imaps = f"  inet_listener imaps {{\n    port = {self._tls_port}\n    ssl = yes\n  }}\n"
        else:
            ssl_settings = "ssl = no\n"
            imaps = "  inet_listener imaps {\n    port = 0\n  }\n"
        return (
            f"base_dir = {self.base_dir / 'run'}\n"
            f"state_dir = {self.base_dir / 'state'}\n"
            f"log_path = {self.log_file}\n"
            f"info_log_path = {self.log_file}\n"
            "protocols = imap\n"
            "listen = 127.0.0.1\n"
            f"{ssl_settings}"
            # Local tests log in with plain passwords on the plain port too.
            "disable_plaintext_auth = no\n"
            "auth_mechanisms = plain login\n"
            # A failed login otherwise delays the next ones from the same address by seconds, slowing every
            # test that follows a wrong-password test.
            "auth_failure_delay = 0\n"
            # The default (500) refuses system users such as `mail`: login would then say
            # "initialization failed". 0 is refused by Dovecot anyway.
            "first_valid_uid = 1\n"
            f"default_login_user = {login_user}\n"
            f"default_internal_user = {internal_user}\n"
            "mail_location = maildir:~/Maildir\n"
            "passdb {\n"
            "  driver = passwd-file\n"
            f"  args = scheme=PLAIN {self.base_dir / 'users'}/%u\n"
            "}\n"
            "userdb {\n"
            "  driver = static\n"
            f"  args = uid={mail_owner.pw_uid} gid={mail_owner.pw_gid} home={self.base_dir / 'home'}/%u\n"
            "}\n"
            "service imap-login {\n"
            f"  inet_listener imap {{\n    port = {self.port}\n  }}\n"
            f"{imaps}"
            "}\n"
        )

    def _start_error(self, reason: str) -> ServerStartError:
        return ServerStartError(
            f"Dovecot IMAP on {self.host}:{self.port} ({self.base_dir}): {reason}\n"
            f"--- {self.log_file.name} (tail) ---\n{log_tail(self.log_file)}\n"
            f"--- stdout.log (tail) ---\n{log_tail(self.base_dir / 'stdout.log', 20)}"
        )
