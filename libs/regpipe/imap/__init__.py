"""IMAP ingestion: reads a mailbox of provider notification e-mails and publishes each one, whole, to
`registrar.raw.v1`; a message is moved (or flagged) only after Kafka acknowledged its record.

`MailboxSupervisor` (leader election, reconnects, shutdown) drives a `MailboxIngestor` (scan, publish, mark;
IDLE or polling) over an `ImapConnection` (IMAPS, STARTTLS, or plain when allowed). What counts as a
notification, and under which event id, is the provider's `MailClassifier`; whether a trusted receiving server
vouches for a mail (DKIM through `Authentication-Results`) is `SenderAuthentication`, recorded on every raw record.

Exceptions (`regpipe.imap.errors`):

    ImapError                   anything the IMAP library could not do
    ├── ImapConfigError         settings that cannot work (plain not allowed, bad folder name, missing CA file)
    ├── ImapAuthError           the server refused the credentials (not retried)
    ├── ImapConnectionError     no usable connection: refused, reset, timed out, lost (retried with backoff)
    │   └── ImapTlsError        TLS handshake or certificate verification failed, or no STARTTLS offered
    └── ImapCommandError        the server answered NO/BAD to a needed command (retried after a pause)
"""

from regpipe.imap.authentication import SenderAuthentication
from regpipe.imap.config import ImapConfig, MailboxPolicy, MarkMode, Security
from regpipe.imap.connection import ImapConnection
from regpipe.imap.errors import (
    ImapAuthError,
    ImapCommandError,
    ImapConfigError,
    ImapConnectionError,
    ImapError,
    ImapTlsError,
)
from regpipe.imap.ingestor import CONTENT_TYPE, MailboxIngestor, MailClassifier, MailIdentity, Rejection, ScanReport
from regpipe.imap.supervisor import MailboxSupervisor, ReaderState, ReconnectPolicy, lease_name

__all__ = [
    "CONTENT_TYPE",
    "ImapAuthError",
    "ImapCommandError",
    "ImapConfig",
    "ImapConfigError",
    "ImapConnection",
    "ImapConnectionError",
    "ImapError",
    "ImapTlsError",
    "MailClassifier",
    "MailIdentity",
    "MailboxIngestor",
    "MailboxPolicy",
    "MailboxSupervisor",
    "MarkMode",
    "ReaderState",
    "ReconnectPolicy",
    "Rejection",
    "ScanReport",
    "Security",
    "SenderAuthentication",
    "lease_name",
]
