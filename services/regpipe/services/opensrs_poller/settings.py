"""Configuration of the OpenSRS poller service, from environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr

from regpipe.providers.opensrs.protocol import MAX_POLL_LIMIT
from regpipe.runtime.settings import KafkaSettings, LeaseSettings, SealSettings, ServiceSettings

__all__ = ["OpenSRSPollerSettings"]


class OpenSRSPollerSettings(KafkaSettings, LeaseSettings, SealSettings, ServiceSettings):
    """Every setting of the OpenSRS poller; env var = field name in upper case. Secrets are never logged."""

    opensrs_url: str = Field(description="Base URL of the XML API, e.g. https://rr-n1-tor.opensrs.net:55443")
    opensrs_username: str = Field(min_length=1, description="Reseller user (X-Username), one account per process")
    opensrs_api_key: SecretStr = Field(description="The account's private key, used to sign requests")
    opensrs_poll_limit: int = Field(default=1, ge=1, le=MAX_POLL_LIMIT, description="Events per POLL")
    opensrs_poll_interval_s: float = Field(default=30.0, gt=0, description="Pause after a POLL with no events")
    opensrs_timeout_s: float = Field(default=80.0, gt=0, description="Per-call timeout (OpenSRS's guide: 80 s)")
    opensrs_backoff_initial_s: float = Field(default=0.5, gt=0)
    opensrs_backoff_max_s: float = Field(default=60.0, gt=0)
    opensrs_error_pause_s: float = Field(default=300.0, gt=0, description="Pause after a non-retriable error")
    health_port: int = 8085
