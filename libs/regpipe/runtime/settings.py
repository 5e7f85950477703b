"""Settings building blocks every service composes its one settings class from.

A service's settings class inherits the blocks it needs (`class XSettings(KafkaSettings, ServiceSettings)`), so
the same variable means the same thing, with the same type and validation, in every service. Env var = field
name in upper case; secrets are `SecretStr` and print as `**********`.
"""

from __future__ import annotations

import asyncio

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from regpipe.contract.sealing import RawSealer, parse_keyring
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
    """Where the Kafka cluster is."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", min_length=1)


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
