"""Configuration of the IMAP parser service, from environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from regpipe.imap.config import MarkMode, Security
from regpipe.runtime.settings import KafkaSettings, LeaseSettings, SealSettings, ServiceSettings

__all__ = ["ImapParserSettings"]


class ImapParserSettings(KafkaSettings, LeaseSettings, SealSettings, ServiceSettings):
    """Every setting of the IMAP parser; env var = field name in upper case. Secrets are never logged."""

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
    imap_rejected_folder: str = Field(
        default="Rejected", description="Where notifications too large or unreadable to publish go (never deleted)"
    )
    imap_max_message_bytes: int = Field(
        default=900_000, gt=0, le=1_000_000, description="Larger notifications are set aside (raw topic limit 1 MiB)"
    )
    imap_identify_timeout_s: float = Field(default=20.0, gt=0, description="Reading one mail longer sets it aside")
    imap_auth_trusted_authserv_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="authserv-ids of the receiving servers whose Authentication-Results are trusted (comma-separated);"
        " unset: no e-mail is vouched for, so every e-mailed event is held (docs/email-authentication.md)",
    )
    imap_auth_signing_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="The provider's DKIM signing domains, header.d (comma-separated)"
    )
    imap_mark: MarkMode = Field(default=MarkMode.MOVE, description="move processed mail, or flag it in place")
    imap_processed_keyword: str = "$RegpipeProcessed"
    imap_use_idle: bool = True
    imap_idle_renew_s: float = Field(default=25 * 60, gt=0, description="Re-issue IDLE this often")
    imap_poll_interval_s: float = Field(default=30.0, gt=0, description="Polling interval when IDLE is unavailable")
    imap_batch_size: int = Field(default=20, ge=1, le=500)
    imap_timeout_s: float = Field(default=30.0, gt=0, description="Per IMAP command and connection attempt")
    imap_backoff_initial_s: float = Field(default=0.5, gt=0)
    imap_backoff_max_s: float = Field(default=60.0, gt=0)
    shutdown_grace_s: float = Field(default=5.0, ge=0, description="Time the in-flight batch gets on SIGTERM")
    health_port: int = 8087

    @field_validator("imap_auth_trusted_authserv_ids", "imap_auth_signing_domains", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip().lower() for item in value.split(",") if item.strip()]
        return value

    @property
    def effective_imap_port(self) -> int | None:
        """The port to connect to (None: the default of the security mode)."""
        if self.imap_security is Security.IMAPS:
            return self.imap_ssl_port or self.imap_port
        return self.imap_port
