"""The OpenSRS mapper the normalizer uses: `mapping.map_record`, holding back events of e-mails nothing trusted
vouches for.

Anyone who can mail the notification address can write a notification, so an e-mail's events are published only
when the IMAP parser recorded a DKIM pass of OpenSRS's signing domain reported by a trusted receiving server
(`email-auth: dkim-pass`). Any other e-mail (`unverified`, or a record from before the parser recorded a verdict)
is quarantined as `unverified_email` once it maps: held, not lost. The same event polled from the API is
published under the same canonical id, so a held copy never makes consumers miss an event that was also polled,
and never reaches the deduplicator to look like a collision (`docs/email-authentication.md`).
"""

from __future__ import annotations

from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.raw import EmailAuth
from regpipe.contract.taxonomy import Transport
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from regpipe.providers.opensrs.mapping import map_record

__all__ = ["map_vouched_record"]


def map_vouched_record(raw: RawInput) -> list[CanonicalEvent]:
    """Map like `map_record`; raise `MappingError(UNVERIFIED_EMAIL)` for the events of an unvouched e-mail."""
    events = map_record(raw)  # an unmappable mail keeps its own reason, whatever vouches for it
    if raw.headers.transport is Transport.EMAIL and raw.headers.email_auth is not EmailAuth.DKIM_PASS:
        verdict = raw.headers.email_auth.value if raw.headers.email_auth is not None else "no verdict recorded"
        types = ", ".join(sorted({event.type.value for event in events})) or "no event"
        raise MappingError(
            QuarantineReason.UNVERIFIED_EMAIL,
            f"held: no trusted DKIM pass of the provider for this e-mail ({verdict}); it maps to {types}",
        )
    return events
