"""Configuration of the IMAP parser service, from environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from regpipe.imap.config import MarkMode, Security


class ImapParserSettings(BaseSettings):
    """Every setting of the IMAP parser; env var = field name in upper case. Secrets are never logged."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    imap_host: str = Field(min_length=1, description="IMAP server of the technical contact's mailbox")
    imap_security: Security = Field(default=Security.IMAPS, description="imaps, starttls, or plain (tests only)")
    imap_allow_plain: bool = Field(default=False, description="Must be true for IMAP_SECURITY=plain")
    imap_port: int | None = Field(default=None, description="Port for starttls/plain (default 143), imaps if alone")
    imap_ssl_port: int | None = Field(default=None, description="IMAPS port (default IMAP_PORT, else 993)")
    imap_ca_file: Path | None = Field(default=None, description="Trust only this CA (PEM); default: system CAs")
    imap_username: str = Field(min_length=1)
    imap_password: SecretStr
    imap_mailbox: str = "INBOX"
    imap_processed_folder: str = "Processed"
    imap_ignored_folder: str | None = Field(default=None, description="Where non-notifications go; unset: stay")
    imap_mark: MarkMode = Field(default=MarkMode.MOVE, description="move processed mail, or flag it in place")
    imap_processed_keyword: str = "$RegpipeProcessed"
    imap_use_idle: bool = True
    imap_idle_renew_s: float = Field(default=25 * 60, gt=0, description="Re-issue IDLE this often")
    imap_poll_interval_s: float = Field(default=30.0, gt=0, description="Polling interval when IDLE is unavailable")
    imap_batch_size: int = Field(default=20, ge=1, le=500)
    imap_timeout_s: float = Field(default=30.0, gt=0, description="Per IMAP command and connection attempt")
    imap_backoff_initial_s: float = Field(default=0.5, gt=0)
    imap_backoff_max_s: float = Field(default=60.0, gt=0)
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    postgres_dsn: SecretStr = Field(description="Database holding the leader-election advisory locks")
    lease_retry_interval_s: float = Field(default=1.0, gt=0, description="How often a standby tries the lease")
    lease_check_interval_s: float = Field(default=2.0, gt=0, description="How often the leader checks its lease")
    raw_seal_keys: SecretStr | None = Field(default=None, description="kid:base64key,... to seal raw records")
    raw_seal_active_key: str | None = None
    shutdown_grace_s: float = Field(default=5.0, ge=0, description="Time the in-flight batch gets on SIGTERM")
    health_host: str = "0.0.0.0"  # noqa: S104  # probes reach the pod from outside
    health_port: int = 8087
    log_level: str = "INFO"

    @property
    def effective_imap_port(self) -> int | None:
        """The port to connect to (None: the default of the security mode)."""
        if self.imap_security is Security.IMAPS:
            return self.imap_ssl_port or self.imap_port
        return self.imap_port
