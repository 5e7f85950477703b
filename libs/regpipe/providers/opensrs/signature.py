"""The OpenSRS request signature: `md5_hex(md5_hex(xml_bytes + key) + key)` over the exact bytes sent.

OpenSRS fixes MD5 in its protocol; we cannot choose a better hash. The simulator verifies with the same function.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["md5_hex", "sign", "verify"]


def md5_hex(data: bytes) -> str:
    """Lower-case hex MD5 of `data`."""
    return hashlib.md5(data).hexdigest()  # noqa: S324 -- the provider's protocol mandates MD5


def sign(body: bytes, key: str) -> str:
    """The `X-Signature` header value for `body` (the request bytes exactly as sent) under the API `key`."""
    secret = key.encode("utf-8")
    return md5_hex(md5_hex(body + secret).encode("ascii") + secret)


def verify(body: bytes, key: str, signature: str) -> bool:
    """True when `signature` is the signature of `body` under `key` (constant-time comparison)."""
    return hmac.compare_digest(sign(body, key), signature.strip().lower())
