"""What the receiver needs to know about one provider: its source, its default authentication, and how to read
the provider's event id and type from a request, for the raw record's key and headers.

Reading them is best effort: a body the adapter cannot read is still published (the normalizer quarantines it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from regpipe.contract.taxonomy import Source
from regpipe.webhooks.auth import AuthScheme

__all__ = ["EventIdentity", "IdentifyFunction", "WebhookAdapter", "first_text"]

# Provider ids and types go into Kafka headers and the record key: anything longer is not an id.
_MAX_IDENTIFIER = 200


@dataclass(frozen=True, slots=True)
class EventIdentity:
    """The provider's own event id and type, where the request names them."""

    event_id: str | None = None
    event_type: str | None = None


#: Reads the identity from the parsed JSON body (None when the body is not JSON) and the lower-cased headers.
IdentifyFunction = Callable[[object, Mapping[str, str]], EventIdentity]


@dataclass(frozen=True, slots=True)
class WebhookAdapter:
    """One provider's webhook adapter; the registry maps a URL name to one of these."""

    source: Source
    default_auth_scheme: AuthScheme
    default_token_header: str
    identify: IdentifyFunction


def first_text(document: object, *names: str) -> str | None:
    """The first of `names` in a JSON object whose value is a usable identifier (non-empty text or an integer)."""
    if not isinstance(document, Mapping):
        return None
    for name in names:
        value = document.get(name)
        if isinstance(value, bool):
            continue  # a JSON true/false is never an id, though Python counts it as an int
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str) and 0 < len(value) <= _MAX_IDENTIFIER and value.isprintable():
            return value
    return None
