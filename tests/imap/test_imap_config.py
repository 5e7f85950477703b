"""The IMAP configuration refuses what cannot work or would be unsafe."""

from __future__ import annotations

import pytest

from regpipe.imap.config import ImapConfig, MailboxPolicy, Security
from regpipe.imap.errors import ImapConfigError


def test_plain_imap_is_refused_unless_explicitly_allowed() -> None:
    with pytest.raises(ImapConfigError, match="unencrypted"):
        ImapConfig(host="mail.example", username="u", password="p", security=Security.PLAIN)
    allowed = ImapConfig(host="mail.example", username="u", password="p", security=Security.PLAIN, allow_plain=True)
    assert allowed.effective_port == 143


def test_default_ports_follow_security() -> None:
    assert ImapConfig(host="h", username="u", password="p").effective_port == 993
    assert ImapConfig(host="h", username="u", password="p", security=Security.STARTTLS).effective_port == 143
    assert ImapConfig(host="h", username="u", password="p", port=10993).effective_port == 10993


def test_password_is_not_in_the_repr() -> None:
    config = ImapConfig(host="h", username="u", password="s3cret-value")
    assert "s3cret-value" not in repr(config)
    assert config.account == "u@h"


@pytest.mark.parametrize(
    "policy",
    [
        {"processed_folder": "Verarbeitet/Ä"},
        {"processed_folder": "Done\r\nA1 DELETE INBOX"},
        {"processed_folder": "inbox"},
        {"processed_folder": "Done", "ignored_folder": "DONE"},
        {"processed_keyword": "has space"},
        {"batch_size": 0},
    ],
)
def test_unusable_mailbox_policies_are_refused(policy: dict[str, object]) -> None:
    with pytest.raises(ImapConfigError):
        MailboxPolicy(**policy)  # type: ignore[arg-type]
