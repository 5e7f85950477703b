"""Sealing of raw record values: AES-256-GCM with a key ring, so secrets in provider payloads stay recoverable
for replay but unreadable to anyone who can read the raw topic without the key.

Sealed value layout: 12-byte nonce || ciphertext+tag. The key id travels in the `seal` header and is also bound
as associated data, so a value cannot be opened under another key's name.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from regpipe.contract.errors import SealError

__all__ = ["RawSealer", "parse_keyring"]

_NONCE = 12


def parse_keyring(spec: str) -> dict[str, bytes]:
    """Parse `kid1:base64key,kid2:base64key` (32-byte keys) into a key ring."""
    ring: dict[str, bytes] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        kid, sep, encoded = entry.partition(":")
        if not sep or not kid:
            raise SealError("key ring entries look like <key id>:<base64 32-byte key>")
        key = base64.b64decode(encoded, validate=True)
        if len(key) != 32:
            raise SealError(f"key {kid!r} must be 32 bytes, got {len(key)}")
        ring[kid] = key
    return ring


class RawSealer:
    """Seals with the active key; opens with any key of the ring (so keys can be rotated)."""

    def __init__(self, keyring: Mapping[str, bytes], active_key_id: str | None) -> None:
        if active_key_id is not None and active_key_id not in keyring:
            raise SealError(f"active key {active_key_id!r} is not in the key ring")
        self._ciphers = {kid: AESGCM(key) for kid, key in keyring.items()}
        self._active = active_key_id

    @property
    def active_key_id(self) -> str | None:
        """The key id new records are sealed with, or None when sealing is off."""
        return self._active

    def seal(self, plaintext: bytes) -> tuple[bytes, str | None]:
        """Return the value to publish and the key id for the `seal` header (None: published as is)."""
        if self._active is None:
            return plaintext, None
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._ciphers[self._active].encrypt(nonce, plaintext, self._active.encode())
        return sealed, self._active

    def open(self, value: bytes, key_id: str | None) -> bytes:
        """Return the original bytes of a raw record value."""
        if key_id is None:
            return value
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealError(f"raw record sealed with unknown key id {key_id!r}")
        if len(value) <= _NONCE:
            raise SealError("sealed value too short")
        try:
            return cipher.decrypt(value[:_NONCE], value[_NONCE:], key_id.encode())
        except InvalidTag as exc:
            raise SealError(f"sealed value does not open with key {key_id!r}") from exc
