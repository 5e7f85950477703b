"""Webhook receiving: authentication schemes, the provider adapter type, the lean ASGI endpoint that answers 202
only after Kafka acknowledged the exact body, and its app factory.

Adding a provider: one adapter module (`regpipe.providers.<p>.webhook`, a `WebhookAdapter`) and one entry in
`regpipe.webhooks.registry`. The registry is not imported here because the adapter modules import this package.

Exceptions (`regpipe.webhooks.errors`):

    WebhookError
    ├── WebhookConfigError          unusable secrets or settings, raised while building the app
    └── RequestRefusedError         a refused request, answered with its status and code
        ├── AuthenticationError     401, never published
        ├── BodyTimeoutError        408, the body did not arrive in time
        ├── BodyTooLargeError       413
        ├── UnreadableRequestError  400
        ├── KafkaUnavailableError   503 + Retry-After, the provider retries
        └── ReceiverBusyError       503 + Retry-After, too many bodies being read
"""

from regpipe.webhooks.adapter import EventIdentity, IdentifyFunction, WebhookAdapter, first_text
from regpipe.webhooks.answers import AcceptedAnswer, ErrorAnswer
from regpipe.webhooks.app import WebhookReceiverApp, create_receiver_app
from regpipe.webhooks.auth import Authenticator, AuthScheme, build_authenticator
from regpipe.webhooks.endpoint import WebhookEndpoint
from regpipe.webhooks.errors import (
    AuthenticationError,
    BodyTimeoutError,
    BodyTooLargeError,
    KafkaUnavailableError,
    ReceiverBusyError,
    RequestRefusedError,
    UnreadableRequestError,
    WebhookConfigError,
    WebhookError,
)
from regpipe.webhooks.limits import BodyLimits
from regpipe.webhooks.producer_link import ProducerLink
from regpipe.webhooks.route import ProviderRoute
from regpipe.webhooks.standard_webhooks import StandardWebhooksAuth, signature_headers
from regpipe.webhooks.tokens import HeaderTokenAuth, PathTokenAuth

__all__ = [
    "AcceptedAnswer",
    "AuthScheme",
    "AuthenticationError",
    "Authenticator",
    "BodyLimits",
    "BodyTimeoutError",
    "BodyTooLargeError",
    "ErrorAnswer",
    "EventIdentity",
    "HeaderTokenAuth",
    "IdentifyFunction",
    "KafkaUnavailableError",
    "PathTokenAuth",
    "ProducerLink",
    "ProviderRoute",
    "ReceiverBusyError",
    "RequestRefusedError",
    "StandardWebhooksAuth",
    "UnreadableRequestError",
    "WebhookAdapter",
    "WebhookConfigError",
    "WebhookEndpoint",
    "WebhookError",
    "WebhookReceiverApp",
    "build_authenticator",
    "create_receiver_app",
    "first_text",
    "signature_headers",
]
