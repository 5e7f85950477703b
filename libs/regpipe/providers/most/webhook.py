"""Most's webhook adapter: how the receiver authenticates Most by default and reads its event id and type.

Most does not document its envelope nor how it signs webhooks. Assumed (docs/taxonomy.md): `{"id", "type",
"created_at", "data"}` with the aliases `eventId`/`event_id` and `event`; signed with Standard Webhooks, whose
`webhook-id` (stable across retries of one message) stands in for the event id when the body names none.
"""

from __future__ import annotations

from collections.abc import Mapping

from regpipe.contract.taxonomy import Source
from regpipe.webhooks.adapter import EventIdentity, WebhookAdapter, first_text
from regpipe.webhooks.auth import AuthScheme

__all__ = ["MOST_WEBHOOK", "identify"]


def identify(document: object, headers: Mapping[str, str]) -> EventIdentity:
    """The event id and type from the body, best effort (None where unreadable)."""
    event_id = first_text(document, "id", "eventId", "event_id") or first_text(headers, "webhook-id")
    return EventIdentity(event_id=event_id, event_type=first_text(document, "type", "event"))


MOST_WEBHOOK = WebhookAdapter(
    source=Source.MOST,
    default_auth_scheme=AuthScheme.STANDARD_WEBHOOKS,
    default_token_header="authorization",  # noqa: S106 - a header name, not a secret
    identify=identify,
)
