"""Standard Webhooks signatures: verification of incoming requests and signing of outgoing ones.

The signed content is `<webhook-id>.<webhook-timestamp>.<body>` over the exact body bytes, HMAC-SHA256 keyed with
the decoded `whsec_` secret; `webhook-signature` holds space-separated `v1,<base64>` entries (several while the
sender rotates keys). Unlike the reference package this works on bytes, so a body that is not UTF-8 can still be
verified (and then refused as unreadable rather than as unauthenticated); the tests check both agree.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence

from regpipe.webhooks.errors import AuthenticationError, WebhookConfigError

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "SECRET_PREFIX",
    "StandardWebhooksAuth",
    "decode_secret",
    "sign",
    "signature_headers",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix the standard gives secrets, not one
DEFAULT_TOLERANCE_S = 300

# More entries than any rotation needs would only make a request cost more HMAC comparisons.
_MAX_SIGNATURES = 8
_MAX_TIMESTAMP_DIGITS = 12


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional, padding may be left out)."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise WebhookConfigError("a Standard Webhooks secret must be `whsec_` followed by base64") from exc
    if len(key) < 16:
        raise WebhookConfigError("a Standard Webhooks secret must hold at least 16 random bytes")
    return key


def _mac(key: bytes, msg_id: bytes, timestamp: bytes, body: bytes) -> bytes:
    return hmac.new(key, b"%s.%s.%s" % (msg_id, timestamp, body), hashlib.sha256).digest()


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature entry."""
    digest = _mac(key, msg_id.encode(), str(timestamp).encode(), body)
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    secrets: Sequence[str], msg_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers a sender adds, signed with every secret given (as during a key rotation)."""
    when = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(when),
        "webhook-signature": " ".join(sign(decode_secret(secret), msg_id, when, body) for secret in secrets),
    }


def _presented_signatures(header: str) -> list[bytes]:
    found: list[bytes] = []
    for entry in header.split()[:_MAX_SIGNATURES]:
        version, sep, encoded = entry.partition(",")
        if version != "v1" or not sep:
            continue  # other versions are allowed by the standard; we only speak v1
        try:
            digest = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue  # one garbled entry must not hide a valid one beside it
        if len(digest) == hashlib.sha256().digest_size:
            found.append(digest)
    return found


class StandardWebhooksAuth:
    """Verifies `webhook-id`, `webhook-timestamp` (within the tolerance, both ways) and `webhook-signature`.

    Several secrets may be configured so our side can rotate too: a request passes if any presented signature
    matches any secret. Every comparison is constant-time and all of them are made.
    """

    uses_path_token = False

    def __init__(
        self,
        secrets: Sequence[str],
        *,
        tolerance_s: int = DEFAULT_TOLERANCE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secrets:
            raise WebhookConfigError("Standard Webhooks verification needs at least one secret")
        self._keys = tuple(decode_secret(secret) for secret in secrets)
        self._tolerance_s = tolerance_s
        self._clock = clock

    def authenticate(self, headers: Mapping[str, str], body: bytes, path_token: str | None) -> None:
        """Return if the request is signed by a known secret; raise `AuthenticationError` otherwise."""
        self.check_headers(headers, path_token)
        self.verify_body(headers, body)

    def check_headers(self, headers: Mapping[str, str], path_token: str | None) -> None:
        """Return if the three headers are present and well-formed and the timestamp is within the tolerance."""
        _, timestamp, signatures = _signature_headers(headers)
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS):
            raise AuthenticationError("invalid_timestamp", "webhook-timestamp must be Unix seconds")
        if abs(self._clock() - int(timestamp)) > self._tolerance_s:
            raise AuthenticationError(
                "timestamp_out_of_tolerance", f"webhook-timestamp is more than {self._tolerance_s} s from now"
            )
        if not _presented_signatures(signatures):
            raise AuthenticationError("invalid_signature", "webhook-signature holds no v1 signature")

    def verify_body(self, headers: Mapping[str, str], body: bytes) -> None:
        """Return if a presented signature matches `body` under a known secret (after `check_headers`)."""
        msg_id, timestamp, signatures = _signature_headers(headers)
        presented = _presented_signatures(signatures)
        # Headers reach us decoded as latin-1, so encoding back gives the exact bytes the sender signed.
        signed_id, signed_ts = msg_id.encode("latin-1"), timestamp.encode("latin-1")
        matched = False
        for key in self._keys:
            expected = _mac(key, signed_id, signed_ts, body)
            for candidate in presented:
                matched |= hmac.compare_digest(expected, candidate)
        if not matched:
            raise AuthenticationError("invalid_signature", "no webhook-signature entry matches")


def _signature_headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        raise AuthenticationError(
            "missing_signature", "webhook-id, webhook-timestamp and webhook-signature headers are required"
        )
    return msg_id, timestamp, signatures
