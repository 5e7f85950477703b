"""Cold Mail Reseller's webhook adapter: how the receiver authenticates it by default and reads its event id
and type from the documented envelope `{"event": "<type>", "eventId": "<28-char id>", "data": {...}}`.

Cold Mail's signing is not documented and destinations are pasted into its partner portal per event type, so the
default is the one scheme any URL field supports: a secret token as the URL's last segment.
"""

from __future__ import annotations

from collections.abc import Mapping

from regpipe.contract.taxonomy import Source
from regpipe.webhooks.adapter import EventIdentity, WebhookAdapter, first_text
from regpipe.webhooks.auth import AuthScheme

__all__ = ["COLDMAIL_WEBHOOK", "identify"]


def identify(document: object, headers: Mapping[str, str]) -> EventIdentity:
    """The event id and type from the body, best effort (None where unreadable)."""
    return EventIdentity(event_id=first_text(document, "eventId"), event_type=first_text(document, "event"))


COLDMAIL_WEBHOOK = WebhookAdapter(
    source=Source.COLDMAIL,
    default_auth_scheme=AuthScheme.PATH_TOKEN,
    default_token_header="x-webhook-token",  # noqa: S106 - a header name, not a secret
    identify=identify,
)
