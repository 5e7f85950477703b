"""The registry of providers that deliver webhooks: the URL name `POST /webhooks/<name>` to its adapter.

Adding a provider is one adapter module and one entry here (and its settings in the receiver service).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from regpipe.providers.coldmail.webhook import COLDMAIL_WEBHOOK
from regpipe.providers.most.webhook import MOST_WEBHOOK
from regpipe.webhooks.adapter import WebhookAdapter

__all__ = ["WEBHOOK_ADAPTERS"]

WEBHOOK_ADAPTERS: Final[Mapping[str, WebhookAdapter]] = MappingProxyType(
    {
        "most": MOST_WEBHOOK,
        "coldmail": COLDMAIL_WEBHOOK,
    }
)
