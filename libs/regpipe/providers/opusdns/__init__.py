"""Adapter for OpusDNS's REST events API: payload models (`payloads`), the pure mapper (`mapping`), the API
client (`client`) with its authentication (`auth`), the poller (`poller`) and errors (`errors`). The simulator
lives in `regpipe.simulators.opusdns`.

Errors (`errors`):

    OpusDnsError                      base; `retriable` says whether trying again later can help
    ├── OpusDnsTransportError         no HTTP answer (retriable)
    ├── OpusDnsPayloadError           a 2xx answer that is not the documented JSON (retriable)
    └── OpusDnsApiError               an HTTP error answer with its problem+json `code`
        ├── OpusDnsAuthError          401 / 403
        ├── OpusDnsNotFoundError      404
        ├── OpusDnsRateLimitedError   429 (retriable, after Retry-After)
        └── OpusDnsServerError        5xx (retriable)

The mapper raises `regpipe.providers.mapper.MappingError`, like every provider's.
"""

from regpipe.providers.opusdns.auth import ApiKeyAuth, ClientCredentialsAuth
from regpipe.providers.opusdns.client import EventListing, OpusDnsClient, RetryPolicy, make_auth
from regpipe.providers.opusdns.errors import (
    OpusDnsApiError,
    OpusDnsAuthError,
    OpusDnsError,
    OpusDnsNotFoundError,
    OpusDnsPayloadError,
    OpusDnsRateLimitedError,
    OpusDnsServerError,
    OpusDnsTransportError,
)
from regpipe.providers.opusdns.poller import PAGE_EVENT_TYPE, OpusDnsPoller, PollerConfig, lease_name

__all__ = [
    "PAGE_EVENT_TYPE",
    "ApiKeyAuth",
    "ClientCredentialsAuth",
    "EventListing",
    "OpusDnsApiError",
    "OpusDnsAuthError",
    "OpusDnsClient",
    "OpusDnsError",
    "OpusDnsNotFoundError",
    "OpusDnsPayloadError",
    "OpusDnsPoller",
    "OpusDnsRateLimitedError",
    "OpusDnsServerError",
    "OpusDnsTransportError",
    "PollerConfig",
    "RetryPolicy",
    "lease_name",
    "make_auth",
]
