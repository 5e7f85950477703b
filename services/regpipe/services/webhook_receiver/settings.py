"""Configuration of the webhook receiver, from environment variables (env var = field name in upper case)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, SecretStr, model_validator

from regpipe.runtime.settings import KafkaSettings, LoggingSettings, SealSettings
from regpipe.webhooks.auth import AuthScheme

__all__ = ["ProviderSettings", "WebhookReceiverSettings"]


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """One provider's webhook authentication; unset options take the adapter's defaults."""

    secrets: tuple[str, ...]
    scheme: AuthScheme | None
    token_header: str | None
    account: str | None


def _secrets(value: SecretStr | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(part.strip() for part in value.get_secret_value().split(",") if part.strip())


class WebhookReceiverSettings(KafkaSettings, SealSettings, LoggingSettings):
    """Every setting of the receiver. Secrets are `SecretStr`: they print as `**********`. The receiver is its own
    health server (`/healthz`, `/readyz` on the webhook port), so it composes logging, not the health block."""

    # Below Most's 10 s answer deadline, so the provider hears 503 (and retries) rather than timing out.
    kafka_publish_timeout_s: float = Field(default=5.0, gt=0, le=9)
    kafka_linger_ms: int = Field(default=5, ge=0)
    # How often an idle receiver proves it still reaches Kafka; /readyz fails after three silent intervals.
    kafka_probe_interval_s: float = Field(default=5.0, gt=0)
    webhook_host: str = "0.0.0.0"  # noqa: S104  # providers reach the pod from outside
    webhook_port: int = 8080
    webhook_workers: int = Field(default=1, ge=1)
    # A raw record (body + headers, + 28 bytes when sealed) must fit Kafka's default 1 MB message limit.
    webhook_max_body_bytes: int = Field(default=512 * 1024, gt=0, le=900_000)
    webhook_retry_after_s: int = Field(default=5, ge=1)
    # Per worker: bodies being read at once (503 + Retry-After beyond), so slow senders cannot pin memory.
    webhook_max_concurrent_bodies: int = Field(default=64, ge=1)
    # With the publish timeout, stays within Most's 10 s answer deadline; a slower body is answered 408.
    webhook_body_read_timeout_s: float = Field(default=5.0, gt=0, le=60)

    # Comma-separated secrets: several are valid at once while one is rotated out.
    most_auth_scheme: AuthScheme | None = None
    most_webhook_secrets: SecretStr | None = None
    most_token_header: str | None = None
    most_account: str | None = None
    coldmail_auth_scheme: AuthScheme | None = None
    coldmail_webhook_secrets: SecretStr | None = None
    coldmail_token_header: str | None = None
    coldmail_account: str | None = None

    # RAW_SEAL_KEYS / RAW_SEAL_ACTIVE_KEY (SealSettings): raw values are sealed, as payloads carry secrets.

    # 0: /metrics and the API docs are served on the public port too (local runs). Otherwise /metrics, summed over
    # the workers, is served on this internal port only, the docs not at all, and the public port answers nothing
    # but /webhooks/..., /healthz and /readyz.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)

    @model_validator(mode="after")
    def _sealing_is_complete(self) -> WebhookReceiverSettings:
        if (self.raw_seal_keys is None) != (self.raw_seal_active_key is None):
            raise ValueError("RAW_SEAL_KEYS and RAW_SEAL_ACTIVE_KEY are set together or not at all")
        return self

    def providers(self) -> dict[str, ProviderSettings]:
        """Each webhook provider's settings, by the name of its route (the registry's keys)."""
        return {
            "most": ProviderSettings(
                secrets=_secrets(self.most_webhook_secrets),
                scheme=self.most_auth_scheme,
                token_header=self.most_token_header,
                account=self.most_account,
            ),
            "coldmail": ProviderSettings(
                secrets=_secrets(self.coldmail_webhook_secrets),
                scheme=self.coldmail_auth_scheme,
                token_header=self.coldmail_token_header,
                account=self.coldmail_account,
            ),
        }
