"""The XCP requests and replies of the EVENT object, on top of the envelope codec; shared by client and simulator."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import JsonValue, ValidationError

from regpipe.providers.opensrs.envelope import OpsValue, decode_envelope, encode_envelope
from regpipe.providers.opensrs.errors import EnvelopeError
from regpipe.providers.opensrs.payloads import Reply

__all__ = [
    "MAX_POLL_LIMIT",
    "ack_request",
    "as_ops_value",
    "decode_reply",
    "encode_reply",
    "encode_request",
    "poll_request",
    "reply_event_items",
]

#: The largest `limit` EVENT POLL accepts.
MAX_POLL_LIMIT = 100


def as_ops_value(value: object) -> OpsValue:
    """A JSON value (an event as e-mailed) as OpenSRS writes it in XML: numbers and booleans become text."""
    if isinstance(value, Mapping):
        return {str(key): as_ops_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_ops_value(item) for item in value]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def encode_request(action: str, attributes: Mapping[str, OpsValue], *, object_name: str = "EVENT") -> bytes:
    """An XCP request envelope, keys in the order of OpenSRS's own examples."""
    return encode_envelope({"protocol": "XCP", "object": object_name, "action": action, "attributes": dict(attributes)})


def poll_request(limit: int) -> bytes:
    """`EVENT POLL` for up to `limit` (1..100) of the oldest unacknowledged events."""
    if not 1 <= limit <= MAX_POLL_LIMIT:
        raise ValueError(f"limit must be within 1..{MAX_POLL_LIMIT}, got {limit}")
    return encode_request("POLL", {"limit": str(limit)})


def ack_request(event_id: str) -> bytes:
    """`EVENT ACK` of one event (OpenSRS has no bulk ACK)."""
    return encode_request("ACK", {"event_id": event_id})


def encode_reply(
    *,
    is_success: bool,
    response_code: int,
    response_text: str,
    attributes: Mapping[str, OpsValue] | None = None,
    transaction_id: str | None = None,
    object_name: str = "EVENT",
) -> bytes:
    """A REPLY envelope laid out as OpenSRS's examples (used by the simulator and by tests)."""
    value: dict[str, OpsValue] = {
        "protocol": "XCP",
        "object": object_name,
        "response_code": str(response_code),
        "is_success": "1" if is_success else "0",
        "response_text": response_text,
    }
    if transaction_id is not None:
        value["transaction_id"] = transaction_id
    value["action"] = "REPLY"
    if attributes is not None:
        value["attributes"] = dict(attributes)
    return encode_envelope(value)


def decode_reply(body: bytes) -> Reply:
    """Parse a REPLY envelope; `EnvelopeError` when the bytes are not one."""
    value = decode_envelope(body)
    if not isinstance(value, dict):
        raise EnvelopeError("the data block of a reply must be a dt_assoc")
    if value.get("attributes") is None:
        # OpenSRS leaves out or empties `attributes` on errors
        value = {key: item for key, item in value.items() if key != "attributes"}
    try:
        return Reply.model_validate(value)
    except ValidationError as exc:
        raise EnvelopeError(f"not an OpenSRS reply: {exc.errors(include_url=False)}") from exc


def reply_event_items(reply: Reply) -> list[dict[str, JsonValue]]:
    """The items of `attributes.events` of a POLL reply (none when absent), each still an unvalidated dict."""
    events = reply.attributes.get("events")
    if events is None:
        return []
    if not isinstance(events, list):
        raise EnvelopeError("attributes.events of a POLL reply must be a dt_array")
    items = [item for item in events if isinstance(item, dict)]
    if len(items) != len(events):
        raise EnvelopeError("every item of attributes.events must be a dt_assoc")
    return items
