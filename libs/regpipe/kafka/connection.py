"""How a process reaches the Kafka cluster: where it is and, in production, who it logs in as.

Every Kafka client of the product (aiokafka producers, consumers and admin clients, FastStream brokers) is
built from one `KafkaConnection`, so a service that has to log in (SASL/SCRAM with the principal the ACLs in
`regpipe.kafka.access` grant, optionally over TLS) logs in with every client it opens, not only with some.
A plain `str` still means "these bootstrap servers, no login", which is what the local stack and tests use.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import SecretStr

__all__ = ["KafkaConnection", "KafkaLogin", "SaslMechanism", "kafka_connection"]

SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

_FASTSTREAM_SASL: dict[SaslMechanism, type[SASLScram512 | SASLScram256 | SASLPlaintext]] = {
    "SCRAM-SHA-512": SASLScram512,
    "SCRAM-SHA-256": SASLScram256,
    "PLAIN": SASLPlaintext,
}


@dataclass(frozen=True, slots=True)
class KafkaLogin:
    """A SASL principal; the password stays a `SecretStr` until a client is built, so it never reaches a log."""

    username: str
    password: SecretStr
    mechanism: SaslMechanism = "SCRAM-SHA-512"


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """Bootstrap servers plus, optionally, a login and TLS (a CA file, or the system's trust store)."""

    bootstrap_servers: str
    login: KafkaLogin | None = None
    tls: bool = False
    tls_cafile: Path | None = None

    @property
    def security_protocol(self) -> Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]:
        """Kafka's name for this combination of login and TLS."""
        if self.login is None:
            return "SSL" if self._uses_tls else "PLAINTEXT"
        return "SASL_SSL" if self._uses_tls else "SASL_PLAINTEXT"

    @property
    def _uses_tls(self) -> bool:
        return self.tls or self.tls_cafile is not None

    def ssl_context(self) -> ssl.SSLContext | None:
        """A verifying TLS context (hostname checked) when TLS is on."""
        if not self._uses_tls:
            return None
        return ssl.create_default_context(cafile=str(self.tls_cafile) if self.tls_cafile else None)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (`AIOKafkaProducer(**options, ...)`)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        if self.login is not None:
            options["sasl_mechanism"] = self.login.mechanism
            options["sasl_plain_username"] = self.login.username
            options["sasl_plain_password"] = self.login.password.get_secret_value()
        return options

    def broker_security(self) -> BaseSecurity | None:
        """The same, as FastStream's `security=` of a `KafkaBroker`."""
        context = self.ssl_context()
        if self.login is None:
            return BaseSecurity(ssl_context=context, use_ssl=True) if context is not None else None
        sasl = _FASTSTREAM_SASL[self.login.mechanism]
        return sasl(
            self.login.username,
            self.login.password.get_secret_value(),
            ssl_context=context,
            use_ssl=context is not None,
        )


def kafka_connection(kafka: KafkaConnection | str) -> KafkaConnection:
    """`kafka` as a connection: a bare string is bootstrap servers without login (the local stack, tests)."""
    return kafka if isinstance(kafka, KafkaConnection) else KafkaConnection(kafka)
