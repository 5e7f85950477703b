"""Settings building blocks every service composes its one settings class from.

A service's settings class inherits the blocks it needs (`class XSettings(KafkaSettings, ServiceSettings)`), so
the same variable means the same thing, with the same type and validation, in every service. Env var = field
name in upper case; secrets are `SecretStr` and print as `**********`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from regpipe.contract.sealing import RawSealer, parse_keyring
from regpipe.kafka.connection import KafkaConnection, KafkaLogin, SaslMechanism
from regpipe.leadership.lease import DEFAULT_TTL_S, ExpiringLease

__all__ = [
    "KafkaSettings",
    "LeaseSettings",
    "LoggingSettings",
    "PostgresSettings",
    "SealSettings",
    "ServiceSettings",
]


class LoggingSettings(BaseSettings):
    """What every process has: its log level (an HTTP server that is its own health endpoint needs no more)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    log_level: str = "INFO"


class ServiceSettings(LoggingSettings):
    """What every worker service has: logging and the health server (a subclass sets its own `health_port`)."""

    health_host: str = "0.0.0.0"  # noqa: S104  # probes reach the pod from outside
    health_port: int = Field(default=0, ge=0, le=65535, description="Health/metrics port; 0 disables the server")


class KafkaSettings(BaseSettings):
    """Where the Kafka cluster is and, where it asks for one, the service's own login (its principal's ACLs)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", min_length=1)
    kafka_sasl_username: str | None = Field(default=None, min_length=1, description="SASL principal; unset: no login")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="The principal's password")
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_tls: bool = Field(default=False, description="TLS to the brokers (verified against the system's CAs)")
    kafka_tls_cafile: Path | None = Field(
        default=None, description="CA bundle of the brokers' certificates; implies TLS"
    )

    @model_validator(mode="after")
    def _login_is_whole(self) -> KafkaSettings:
        if (self.kafka_sasl_username is None) != (self.kafka_sasl_password is None):
            raise ValueError("KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are set together or not at all")
        return self

    def kafka_connection(self) -> KafkaConnection:
        """What every Kafka client of the service is built from, so each one logs in alike."""
        login = None
        if self.kafka_sasl_username is not None and self.kafka_sasl_password is not None:
            login = KafkaLogin(self.kafka_sasl_username, self.kafka_sasl_password, self.kafka_sasl_mechanism)
        return KafkaConnection(
            self.kafka_bootstrap_servers, login=login, tls=self.kafka_tls, tls_cafile=self.kafka_tls_cafile
        )


class PostgresSettings(BaseSettings):
    """Where the service's PostgreSQL database is."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    postgres_dsn: SecretStr = Field(description="PostgreSQL DSN (postgresql://user:password@host:port/db)")


class LeaseSettings(PostgresSettings):
    """Leader election through an expiring PostgreSQL lease (pollers, the IMAP parser, schedulers)."""

    lease_ttl_s: float = Field(
        default=DEFAULT_TTL_S, gt=0, le=30, description="A standby takes over at most this long after the leader froze"
    )
    lease_retry_interval_s: float = Field(default=1.0, gt=0, description="How often a standby tries the lease")
    lease_check_interval_s: float = Field(default=2.0, gt=0, description="How often the leader checks its lease")
    shutdown_grace_s: float = Field(default=10.0, ge=0, description="Time the leader's in-flight work gets on stop")

    def lease(self, name: str, *, service: str, stop: asyncio.Event) -> ExpiringLease:
        """The lease `name` as configured; a standby stops waiting for it when `stop` is set."""
        return ExpiringLease(
            self.postgres_dsn.get_secret_value(),
            name,
            service=service,
            ttl_s=self.lease_ttl_s,
            retry_interval_s=self.lease_retry_interval_s,
            stop=stop,
        )


class SealSettings(BaseSettings):
    """The key ring raw values are sealed with (AES-GCM); unset: raw values are plain."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    raw_seal_keys: SecretStr | None = Field(default=None, description="kid:base64key,... to seal raw records")
    raw_seal_active_key: str | None = Field(default=None, description="Key id new raw records are sealed with")

    @model_validator(mode="after")
    def _active_key_is_in_ring(self) -> SealSettings:
        if self.raw_seal_active_key and not self.raw_seal_keys:
            raise ValueError("RAW_SEAL_ACTIVE_KEY is set but RAW_SEAL_KEYS is empty")
        return self

    def sealer(self) -> RawSealer:
        """The sealer these settings describe (opens any key of the ring, seals with the active one)."""
        spec = self.raw_seal_keys.get_secret_value() if self.raw_seal_keys is not None else ""
        return RawSealer(parse_keyring(spec), self.raw_seal_active_key)
