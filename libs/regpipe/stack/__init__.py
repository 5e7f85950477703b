"""The real local stack (Kafka, PostgreSQL, Dovecot IMAP) started by the project itself, no Docker.

Every server has the same life cycle (`regpipe.stack.server.LocalServer`): sync `start()`
launches, async `wait_ready()` proves it works with a real client request, `stop()` ends it;
`start_and_wait()` / `with` for sync code, `astart()` / `async with` for async code.

Exceptions (`regpipe.stack.errors`):

    StackError            anything the stack could not do
    ├── DownloadError     fetching the Kafka jars failed
    └── ServerStartError  a server did not start or did not become ready in time
"""

from regpipe.stack.dovecot import DovecotServer, ImapUser
from regpipe.stack.errors import DownloadError, ServerStartError, StackError
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.kafka_dist import KAFKA_VERSION, fetch_kafka
from regpipe.stack.postgres import PostgresServer
from regpipe.stack.server import LocalServer
from regpipe.stack.stack import ImapEndpoint, LocalStack, StackEndpoints

__all__ = [
    "KAFKA_VERSION",
    "DovecotServer",
    "DownloadError",
    "ImapEndpoint",
    "ImapUser",
    "KafkaServer",
    "LocalServer",
    "LocalStack",
    "PostgresServer",
    "ServerStartError",
    "StackEndpoints",
    "StackError",
    "fetch_kafka",
]
