"""The OpenSRS request signature."""

from __future__ import annotations

import hashlib
from pathlib import Path

from regpipe.providers.opensrs.signature import md5_hex, sign, verify


def test_md5_self_test_vector_from_the_provider_docs() -> None:
    assert md5_hex(b"ConnecttoOpenSRSviaSSL") == "e787cc1d1951dfec4827cede7b1a0933"


def test_signature_is_double_md5_over_the_exact_bytes_and_key() -> None:
    body = (Path(__file__).resolve().parents[2] / "golden" / "opensrs" / "seed_poll_request.xml").read_bytes()
    key = "7d8d0bbb8f9a44a1b2e0d0a6c1c9f4e2"
    inner = hashlib.md5(body + key.encode(), usedforsecurity=False).hexdigest()
    assert sign(body, key) == hashlib.md5((inner + key).encode(), usedforsecurity=False).hexdigest()
    assert sign(body, key) != sign(body + b" ", key)  # one byte more is another signature
    assert sign(body, key) != sign(body, key[:-1])


def test_verify_accepts_the_right_signature_only() -> None:
    body, key = b"<OPS_envelope/>", "secret-key"
    signature = sign(body, key)
    assert verify(body, key, signature)
    assert verify(body, key, signature.upper())  # hex case does not matter
    assert not verify(body, "other-key", signature)
    assert not verify(body + b"\n", key, signature)
    assert not verify(body, key, "")
