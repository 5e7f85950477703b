"""Pure encoder and decoder of the OPS envelope, the XML format of every OpenSRS API request and reply.

Values are `dict` (`dt_assoc`), `list` (`dt_array`), `str` (item text, or `dt_scalar` at the top) and `None` (an
empty item: XML cannot tell an empty string from no value, so both decode as `None`). Decoding goes through
defusedxml: the `<!DOCTYPE OPS_envelope SYSTEM "ops.dtd">` every envelope carries is accepted but never fetched,
and any entity declaration (the billion-laughs and XXE attacks) is refused with `UnsafeXmlError`.
"""

from __future__ import annotations

import re
from typing import TypeAlias
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from regpipe.providers.opensrs.errors import EnvelopeError, UnsafeXmlError

__all__ = ["MAX_DEPTH", "OpsValue", "decode_envelope", "encode_envelope"]

OpsValue: TypeAlias = "str | list[OpsValue] | dict[str, OpsValue] | None"

#: Deepest nesting accepted either way; real envelopes nest five or six levels, this only stops runaway input.
MAX_DEPTH = 64

_PROLOGUE = '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n<!DOCTYPE OPS_envelope SYSTEM "ops.dtd">\n'
_VERSION = "0.9"
_CONTAINERS = ("dt_assoc", "dt_array", "dt_scalar")
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# `\r` would be normalised to `\n` by any XML parser, and tabs/newlines in attributes to spaces: write them as
# character references so that every string survives the round trip.
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", '"': "&quot;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
)


def _check_chars(text: str) -> None:
    bad = _NOT_XML_CHAR.search(text)
    if bad is not None:
        raise EnvelopeError(f"character U+{ord(bad.group()):04X} cannot be written in XML 1.0")


def _text(value: str) -> str:
    _check_chars(value)
    return value.translate(_TEXT_ESCAPES)


def _attr(value: str) -> str:
    _check_chars(value)
    return value.translate(_ATTR_ESCAPES)


def _write_container(value: dict[str, OpsValue] | list[OpsValue], indent: int, depth: int, out: list[str]) -> None:
    if depth > MAX_DEPTH:
        raise EnvelopeError(f"value nested deeper than {MAX_DEPTH} levels")
    pad = " " * indent
    tag = "dt_assoc" if isinstance(value, dict) else "dt_array"
    pairs = value.items() if isinstance(value, dict) else ((str(i), item) for i, item in enumerate(value))
    out.append(f"{pad}<{tag}>\n")
    for key, item in pairs:
        if not isinstance(key, str):
            raise EnvelopeError(f"dt_assoc keys must be strings, got {type(key).__name__}")
        opening = f'{pad}  <item key="{_attr(key)}"'
        if item is None:
            out.append(f"{opening}/>\n")
        elif isinstance(item, str):
            out.append(f"{opening}>{_text(item)}</item>\n")
        elif isinstance(item, dict | list):
            out.append(f"{opening}>\n")
            _write_container(item, indent + 4, depth + 1, out)
            out.append(f"{pad}  </item>\n")
        else:
            raise EnvelopeError(f"cannot encode a {type(item).__name__} (only dict, list, str and None)")
    out.append(f"{pad}</{tag}>\n")


def encode_envelope(value: OpsValue) -> bytes:
    """The UTF-8 bytes of an OPS envelope whose data block holds `value`, laid out as OpenSRS's own examples."""
    out = [_PROLOGUE, "<OPS_envelope>\n", f"  <header><version>{_VERSION}</version></header>\n"]
    out.append("  <body>\n    <data_block>\n")
    if value is None:
        out.append("      <dt_scalar/>\n")
    elif isinstance(value, str):
        out.append(f"      <dt_scalar>{_text(value)}</dt_scalar>\n")
    elif isinstance(value, dict | list):
        _write_container(value, 6, 1, out)
    else:
        raise EnvelopeError(f"cannot encode a {type(value).__name__} (only dict, list, str and None)")
    out.append("    </data_block>\n  </body>\n</OPS_envelope>\n")
    return "".join(out).encode("utf-8")


def _only_whitespace(text: str | None) -> bool:
    return text is None or not text.strip()


def _read_container(element: Element, depth: int) -> OpsValue:
    if depth > MAX_DEPTH:
        raise EnvelopeError(f"envelope nested deeper than {MAX_DEPTH} levels")
    if element.tag == "dt_scalar":
        if len(element):
            raise EnvelopeError("dt_scalar holds elements")
        return element.text or None
    if not _only_whitespace(element.text):
        raise EnvelopeError(f"{element.tag} holds text outside its items")
    entries: list[tuple[str, OpsValue]] = []
    for child in element:
        if child.tag != "item":
            raise EnvelopeError(f"{element.tag} holds a <{child.tag}>, expected <item>")
        if not _only_whitespace(child.tail):
            raise EnvelopeError(f"{element.tag} holds text outside its items")
        key = child.get("key")
        if key is None:
            raise EnvelopeError(f"an item of a {element.tag} has no key")
        entries.append((key, _read_item(child, depth)))
    if element.tag == "dt_assoc":
        assoc = dict(entries)
        if len(assoc) != len(entries):
            raise EnvelopeError("dt_assoc repeats a key")
        return assoc
    try:
        indexed = sorted((int(key), value) for key, value in entries if key.isdigit())
    except ValueError as exc:  # a key of non-ASCII digits that int() refuses
        raise EnvelopeError(f"dt_array keys must be 0, 1, 2, ...: {exc}") from exc
    if [index for index, _ in indexed] != list(range(len(entries))):
        raise EnvelopeError("dt_array keys must be 0, 1, 2, ... without gaps or repeats")
    return [value for _, value in indexed]


def _read_item(item: Element, depth: int) -> OpsValue:
    children = list(item)
    if not children:
        return item.text or None
    if len(children) > 1 or children[0].tag not in _CONTAINERS:
        raise EnvelopeError(f"an item holds {[child.tag for child in children]}, expected one dt_assoc/dt_array")
    if not (_only_whitespace(item.text) and _only_whitespace(children[0].tail)):
        raise EnvelopeError("an item mixes text and a nested value")
    return _read_container(children[0], depth + 1)


def decode_envelope(data: bytes) -> OpsValue:
    """The value in the data block of an OPS envelope; raises `EnvelopeError` (or `UnsafeXmlError`)."""
    try:
        root = fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXmlError(f"refused unsafe XML: {type(exc).__name__}: {exc}") from exc
    except ParseError as exc:
        raise EnvelopeError(f"not well-formed XML: {exc}") from exc
    if root.tag != "OPS_envelope":
        raise EnvelopeError(f"root element is <{root.tag}>, expected <OPS_envelope>")
    block = root.find("body/data_block")
    if block is None:
        raise EnvelopeError("no body/data_block in the envelope")
    values = list(block)
    if len(values) != 1 or values[0].tag not in _CONTAINERS:
        raise EnvelopeError(f"data_block holds {[value.tag for value in values]}, expected one dt_* element")
    return _read_container(values[0], 1)
