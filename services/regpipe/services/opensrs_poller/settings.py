"""Configuration of the OpenSRS poller service, from environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from regpipe.providers.opensrs.protocol import MAX_POLL_LIMIT


class OpenSRSPollerSettings(BaseSettings):
    """Every setting of the OpenSRS poller; env var = field name in upper case. Secrets are never logged."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    opensrs_url: str = Field(description="Base URL of the XML API, e.g. https://rr-n1-tor.opensrs.net:55443")
    opensrs_username: str = Field(min_length=1, description="Reseller user (X-Username), one account per process")
    opensrs_api_key: SecretStr = Field(description="The account's private key, used to sign requests")
    opensrs_poll_limit: int = Field(default=1, ge=1, le=MAX_POLL_LIMIT, description="Events per POLL")
    opensrs_poll_interval_s: float = Field(default=30.0, gt=0, description="Pause after a POLL with no events")
    opensrs_timeout_s: float = Field(default=80.0, gt=0, description="Per-call timeout (OpenSRS's guide: 80 s)")
    opensrs_backoff_initial_s: float = Field(default=0.5, gt=0)
    opensrs_backoff_max_s: float = Field(default=60.0, gt=0)
    opensrs_error_pause_s: float = Field(default=300.0, gt=0, description="Pause after a non-retriable error")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    postgres_dsn: SecretStr = Field(description="Database holding the leader-election advisory locks")
    lease_retry_interval_s: float = Field(default=1.0, gt=0, description="How often a standby tries the lease")
    raw_seal_keys: SecretStr | None = Field(default=None, description="kid:base64key,... to seal raw records")
    raw_seal_active_key: str | None = None
    shutdown_grace_s: float = Field(default=10.0, ge=0, description="Time an in-flight call gets on SIGTERM")
    health_host: str = "0.0.0.0"  # noqa: S104  # probes reach the pod from outside
    health_port: int = 8085
    log_level: str = "INFO"
