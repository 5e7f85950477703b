"""The IMAP parser's settings: read from the environment, secrets hidden, unsafe or unusable values refused."""

from __future__ import annotations

import pytest

from regpipe.imap.config import MarkMode, Security
from regpipe.imap.errors import ImapConfigError
from regpipe.services.imap_parser.app import imap_config, mailbox_policy
from regpipe.services.imap_parser.settings import ImapParserSettings

_REQUIRED = {
    "IMAP_HOST": "mail.reseller.example",
    "IMAP_USERNAME": "tech@reseller.example",
    "IMAP_PASSWORD": "imap-s3cret",
    "POSTGRES_DSN": "postgresql://regpipe:pg-s3cret@db/regpipe",
}


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> ImapParserSettings:
    for name, value in {**_REQUIRED, **env}.items():
        monkeypatch.setenv(name, value)
    return ImapParserSettings()


def test_defaults_are_imaps_on_993_moving_to_processed(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch)
    config = imap_config(settings)
    policy = mailbox_policy(settings)
    assert (config.security, config.effective_port, config.ca_file) == (Security.IMAPS, 993, None)
    assert (policy.mailbox, policy.processed_folder, policy.ignored_folder) == ("INBOX", "Processed", None)
    assert policy.mark is MarkMode.MOVE
    assert policy.use_idle


def test_secrets_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch)
    shown = repr(settings) + str(settings) + repr(imap_config(settings))
    assert "imap-s3cret" not in shown
    assert "pg-s3cret" not in shown


@pytest.mark.parametrize(
    ("env", "port"),
    [
        ({"IMAP_SECURITY": "imaps", "IMAP_PORT": "143", "IMAP_SSL_PORT": "10993"}, 10993),
        ({"IMAP_SECURITY": "imaps", "IMAP_PORT": "10993"}, 10993),
        ({"IMAP_SECURITY": "starttls", "IMAP_PORT": "10143", "IMAP_SSL_PORT": "10993"}, 10143),
        ({"IMAP_SECURITY": "starttls"}, 143),
    ],
)
def test_ports_follow_the_security_mode(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], port: int) -> None:
    assert imap_config(_settings(monkeypatch, **env)).effective_port == port


def test_plain_imap_needs_explicit_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImapConfigError, match="unencrypted"):
        imap_config(_settings(monkeypatch, IMAP_SECURITY="plain"))
    allowed = imap_config(_settings(monkeypatch, IMAP_SECURITY="plain", IMAP_ALLOW_PLAIN="true"))
    assert allowed.security is Security.PLAIN


def test_folders_flag_mode_and_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        IMAP_MAILBOX="Notifications",
        IMAP_PROCESSED_FOLDER="Notifications.Done",
        IMAP_IGNORED_FOLDER="Notifications.Other",
        IMAP_MARK="flag",
        IMAP_USE_IDLE="false",
        IMAP_POLL_INTERVAL_S="15",
    )
    policy = mailbox_policy(settings)
    assert (policy.mailbox, policy.processed_folder, policy.ignored_folder) == (
        "Notifications",
        "Notifications.Done",
        "Notifications.Other",
    )
    assert policy.mark is MarkMode.FLAG
    assert (policy.use_idle, policy.poll_interval_s) == (False, 15.0)


def test_unknown_security_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="imaps"):
        _settings(monkeypatch, IMAP_SECURITY="ssl")
