"""Which provider event ids a raw record's value holds, for the polled providers (the decode step of a `RawTail`)."""

from __future__ import annotations

import orjson

from regpipe.providers.opensrs.protocol import decode_reply, reply_event_items

__all__ = ["page_event_ids", "reply_event_ids"]


def reply_event_ids(value: bytes) -> tuple[str, ...]:
    """The event ids of an OpenSRS poll reply."""
    return tuple(str(item["event_id"]) for item in reply_event_items(decode_reply(value)))


def page_event_ids(value: bytes) -> tuple[str, ...]:
    """The event ids of an OpusDNS events listing page, or of one listed event (none for one without an id)."""
    document = orjson.loads(value)
    if "results" in document:
        return tuple(str(event["event_id"]) for event in document["results"])
    return (str(document["event_id"]),) if "event_id" in document else ()
