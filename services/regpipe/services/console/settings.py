"""Configuration of the console service, from environment variables."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from regpipe.kafka.topics import Topic
from regpipe.runtime.settings import KafkaSettings, ServiceSettings

__all__ = ["ConsoleSettings"]

_DEFAULT_GROUPS = ["regpipe-normalizer", "regpipe-deduplicator", "regpipe-aggregator", "regpipe-delivery"]


def _tokens(secret: SecretStr) -> tuple[str, ...]:
    return tuple(token.strip() for token in secret.get_secret_value().split(",") if token.strip())


class ConsoleSettings(KafkaSettings, ServiceSettings):
    """Every setting of the console; env var = field name in upper case. Tokens and secrets are never logged.

    `HEALTH_PORT` serves the console's pages together with `/healthz`, `/readyz` and `/metrics`.
    """

    health_port: int = Field(default=8090, ge=1, le=65535, description="The console's pages + probes + metrics")
    console_session_secret: SecretStr = Field(min_length=32, description="Signs the session cookie (32+ chars)")
    console_viewer_tokens: SecretStr = Field(default=SecretStr(""), description="Comma-separated viewer tokens")
    console_operator_tokens: SecretStr = Field(default=SecretStr(""), description="Comma-separated operator tokens")
    console_secure_cookies: bool = Field(default=True, description="Cookie only over HTTPS; off for plain local HTTP")
    console_read_api_url: str = Field(default="http://127.0.0.1:8089", description="The aggregator's read API")
    console_read_api_token: SecretStr = Field(default=SecretStr(""), description="One of AGGREGATOR_API_TOKENS")
    console_admin_api_url: str = Field(default="http://127.0.0.1:8088", description="The delivery admin API")
    console_admin_api_token: SecretStr = Field(default=SecretStr(""), description="DELIVERY_ADMIN_TOKEN")
    console_quarantine_input_topic: str = Field(
        default=Topic.QUARANTINE.value, description="The quarantine topic whose latest records the pipeline page shows"
    )
    console_metrics_urls: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description="service=url of each service's /metrics, comma-separated"
    )
    console_lag_groups: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(_DEFAULT_GROUPS), description="Consumer groups whose lag is shown"
    )

    @field_validator("console_metrics_urls", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [item.strip().split("=", 1) for item in value.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("CONSOLE_METRICS_URLS must look like normalizer=http://host:port/metrics,...")
            return {name.strip(): url.strip() for name, url in pairs}
        return value

    @field_validator("console_lag_groups", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    def viewer_tokens(self) -> tuple[str, ...]:
        """The configured viewer sign-in tokens."""
        return _tokens(self.console_viewer_tokens)

    def operator_tokens(self) -> tuple[str, ...]:
        """The configured operator sign-in tokens."""
        return _tokens(self.console_operator_tokens)
