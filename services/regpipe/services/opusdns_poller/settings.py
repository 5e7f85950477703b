"""Configuration of the OpusDNS poller service, from environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from regpipe.runtime.settings import KafkaSettings, LeaseSettings, SealSettings, ServiceSettings

__all__ = ["OpusDnsPollerSettings"]


class OpusDnsPollerSettings(KafkaSettings, LeaseSettings, SealSettings, ServiceSettings):
    """Every setting of the OpusDNS poller; env var = field name in upper case. Secrets are never logged.

    Authentication: `OPUSDNS_API_KEY`, or `OPUSDNS_CLIENT_ID` + `OPUSDNS_CLIENT_SECRET` (OAuth client credentials).
    """

    opusdns_base_url: str = Field(description="API base URL, e.g. https://api.opusdns.com")
    opusdns_account: str = Field(min_length=1, description="Name of the account polled (lease, raw header)")
    opusdns_api_key: SecretStr | None = Field(default=None, description="API key (opk_...)")
    opusdns_client_id: str | None = Field(default=None, description="OAuth client id (organization_...)")
    opusdns_client_secret: SecretStr | None = None
    opusdns_page_size: int = Field(default=100, ge=1, le=1000, description="Events per listing page")
    opusdns_poll_interval_s: float = Field(default=30.0, gt=0, description="Pause after an empty page")
    opusdns_timeout_s: float = Field(default=30.0, gt=0, description="Per-request timeout")
    opusdns_ack_concurrency: int = Field(default=4, ge=1, description="Acknowledgements in flight at once")
    opusdns_backoff_initial_s: float = Field(default=1.0, gt=0)
    opusdns_backoff_max_s: float = Field(default=60.0, gt=0)
    opusdns_error_pause_s: float = Field(default=300.0, gt=0, description="Pause after a non-retriable error")
    health_port: int = 8086

    @model_validator(mode="after")
    def _has_credentials(self) -> OpusDnsPollerSettings:
        has_key = self.opusdns_api_key is not None and bool(self.opusdns_api_key.get_secret_value())
        has_client = bool(self.opusdns_client_id) and self.opusdns_client_secret is not None
        if not (has_key or has_client):
            raise ValueError("set OPUSDNS_API_KEY, or OPUSDNS_CLIENT_ID and OPUSDNS_CLIENT_SECRET")
        return self
