"""The OPS envelope codec: the seed's documents byte for byte, round trips, malformed and hostile XML."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regpipe.providers.opensrs.envelope import MAX_DEPTH, OpsValue, decode_envelope, encode_envelope
from regpipe.providers.opensrs.errors import EnvelopeError, UnsafeXmlError

SEED = Path(__file__).resolve().parents[2] / "golden" / "opensrs"

SEED_DOCUMENTS: dict[str, OpsValue] = {
    "seed_poll_request.xml": {
        "protocol": "XCP",
        "object": "EVENT",
        "action": "POLL",
        "attributes": {"limit": "1"},
    },
    "seed_poll_response.input.xml": {
        "protocol": "XCP",
        "object": "EVENT",
        "response_code": "200",
        "is_success": "1",
        "response_text": "Command successful",
        "action": "REPLY",
        "attributes": {
            "events": [
                {
                    "object_data": {
                        "domain_name": "abc-fictional.de",
                        "domain_id": "801743",
                        "zone_check_status": "invalid",
                    },
                    "object": "DOMAIN",
                    "event_id": "6887c7d3838dcaec7517c531df527bb7",
                    "event": "ZONE_CHECK_STATUS_CHANGE",
                    "event_date": "2014-05-27T19:29:25Z",
                }
            ]
        },
    },
    "seed_ack_request.xml": {
        "protocol": "XCP",
        "object": "EVENT",
        "action": "ACK",
        "attributes": {"event_id": "6887c7d3838dcaec7517c531df527bb7"},
    },
    "seed_ack_response.xml": {
        "protocol": "XCP",
        "object": "EVENT",
        "response_code": "200",
        "is_success": "1",
        "response_text": "Command successful",
        "action": "REPLY",
        "attributes": {"events_remaining": "0"},
    },
}


@pytest.mark.parametrize("name", sorted(SEED_DOCUMENTS))
def test_seed_documents_decode_to_their_values(name: str) -> None:
    assert decode_envelope((SEED / name).read_bytes()) == SEED_DOCUMENTS[name]


@pytest.mark.parametrize("name", sorted(SEED_DOCUMENTS))
def test_encoding_reproduces_the_seed_documents_byte_for_byte(name: str) -> None:
    assert encode_envelope(SEED_DOCUMENTS[name]) == (SEED / name).read_bytes()


def _envelope(data_block: str, doctype: str = '<!DOCTYPE OPS_envelope SYSTEM "ops.dtd">') -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="no" ?>{doctype}'
        f"<OPS_envelope><header><version>0.9</version></header><body><data_block>{data_block}</data_block></body>"
        "</OPS_envelope>"
    ).encode()


def test_scalars_escaping_and_empty_items() -> None:
    block = (
        '<dt_assoc><item key="a&amp;b">x &lt;y&gt; &amp; &apos;z&apos; &quot;q&quot;</item>'
        '<item key="empty"></item><item key="self-closed"/><item key="space"> </item>'
        '<item key="list"><dt_array><item key="1">second</item><item key="0">first</item></dt_array></item>'
        "</dt_assoc>"
    )
    assert decode_envelope(_envelope(block)) == {
        "a&b": "x <y> & 'z' \"q\"",
        "empty": None,
        "self-closed": None,
        "space": " ",
        "list": ["first", "second"],
    }


def test_top_level_scalar() -> None:
    assert decode_envelope(_envelope("<dt_scalar>hello</dt_scalar>")) == "hello"
    assert decode_envelope(encode_envelope("a & b")) == "a & b"
    assert decode_envelope(encode_envelope(None)) is None
    assert decode_envelope(encode_envelope([])) == []
    assert decode_envelope(encode_envelope({})) == {}


# Any string XML 1.0 can carry: no C0 controls but tab/newline/carriage return, no surrogates, no U+FFFE/U+FFFF.
_xml_text = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"],
        exclude_characters=[chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"],
    )
)
# An empty string and None are the same on the wire (an empty item), so generate None and non-empty strings.
_scalar = st.none() | _xml_text.filter(bool)
_values: st.SearchStrategy[OpsValue] = st.recursive(
    _scalar,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_xml_text, children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_any_value_round_trips(value: OpsValue) -> None:
    assert decode_envelope(encode_envelope(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        "bell \x07",
        {"key": "nul \x00"},
        {"bad \x1f key": "v"},
        ["\ud800"],
        {"n": 1},
        {"b": True},
        {1: "int key"},
    ],
)
def test_values_xml_cannot_carry_are_refused_on_encode(value: object) -> None:
    with pytest.raises(EnvelopeError):
        encode_envelope(value)  # type: ignore[arg-type]


def test_nesting_beyond_the_limit_is_refused_both_ways() -> None:
    deep: OpsValue = "leaf"
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(EnvelopeError, match="deeper"):
        encode_envelope(deep)
    block = "<dt_array>" + '<item key="0"><dt_array>' * (MAX_DEPTH + 1) + "</dt_array></item>" * (MAX_DEPTH + 1)
    with pytest.raises(EnvelopeError, match="deeper"):
        decode_envelope(_envelope(block + "</dt_array>"))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"", "not well-formed"),
        (b"<OPS_envelope><body><data_block><dt_assoc>", "not well-formed"),
        (b"<?xml version='1.0'?><other/>", "root element"),
        (b"<OPS_envelope><header/></OPS_envelope>", "data_block"),
        (_envelope(""), "expected one dt_"),
        (_envelope("<dt_assoc/><dt_assoc/>"), "expected one dt_"),
        (_envelope("<dt_hash/>"), "expected one dt_"),
        (_envelope("<dt_assoc><entry key='a'>1</entry></dt_assoc>"), "expected <item>"),
        (_envelope("<dt_assoc><item>no key</item></dt_assoc>"), "no key"),
        (_envelope("<dt_assoc><item key='a'>1</item><item key='a'>2</item></dt_assoc>"), "repeats a key"),
        (_envelope("<dt_array><item key='0'>a</item><item key='2'>b</item></dt_array>"), "without gaps"),
        (_envelope("<dt_array><item key='0'>a</item><item key='00'>b</item></dt_array>"), "without gaps"),
        (_envelope("<dt_array><item key='x'>a</item></dt_array>"), "without gaps"),
        (_envelope("<dt_array><item key='\u00b2'>a</item></dt_array>"), "dt_array keys"),
        (_envelope("<dt_assoc>stray<item key='a'>1</item></dt_assoc>"), "text outside"),
        (_envelope("<dt_assoc><item key='a'>1</item>stray</dt_assoc>"), "text outside"),
        (_envelope("<dt_assoc><item key='a'>text<dt_assoc/></item></dt_assoc>"), "mixes text"),
        (_envelope("<dt_assoc><item key='a'><dt_assoc/><dt_assoc/></item></dt_assoc>"), "expected one"),
        (_envelope("<dt_scalar><b/></dt_scalar>"), "holds elements"),
    ],
)
def test_malformed_envelopes_are_refused(document: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        decode_envelope(document)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE OPS_envelope [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<OPS_envelope><header><version>0.9</version></header><body><data_block>
<dt_scalar>&lol9;</dt_scalar></data_block></body></OPS_envelope>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE OPS_envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OPS_envelope><header><version>0.9</version></header><body><data_block>
<dt_scalar>&xxe;</dt_scalar></data_block></body></OPS_envelope>"""


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(UnsafeXmlError, match="EntitiesForbidden"):
        decode_envelope(BILLION_LAUGHS)


def test_external_entity_is_refused() -> None:
    with pytest.raises(UnsafeXmlError, match="EntitiesForbidden"):
        decode_envelope(XXE)


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback TCP server that records whatever connects to it (nothing should)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    seen: list[bytes] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                seen.append(conn.recv(1024) or b"<connected>")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    done.set()
    thread.join(timeout=2)
    server.close()


def test_the_ops_doctype_is_accepted_and_never_fetched(listener: tuple[int, list[bytes]]) -> None:
    port, seen = listener
    doctype = f'<!DOCTYPE OPS_envelope SYSTEM "http://127.0.0.1:{port}/ops.dtd">'
    assert decode_envelope(_envelope("<dt_scalar>ok</dt_scalar>", doctype)) == "ok"
    parameter_entity = f'<!DOCTYPE OPS_envelope [<!ENTITY % dtd SYSTEM "http://127.0.0.1:{port}/x.dtd"> %dtd;]>'
    with pytest.raises(UnsafeXmlError):
        decode_envelope(_envelope("<dt_scalar>ok</dt_scalar>", parameter_entity))
    assert seen == []
