"""Domain-name normalisation and the partition-key rule shared by every stage."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

import idna

from regpipe.contract.errors import InvalidDomainNameError

__all__ = ["normalize_domain", "partition_key"]

#: An ASCII name as IDNA would check it, plus underscores (`_dmarc`, and registries that hand them out): labels
#: of 1-63 letters, digits, hyphens or underscores, at most 253 characters in all. No control characters, no
#: scheme, path, port, user or wildcard: those are not domain names, and the name becomes a subject and a key.
_ASCII_LABEL: Final = r"[A-Za-z0-9_-]{1,63}"
_ASCII_NAME: Final = re.compile(rf"{_ASCII_LABEL}(?:\.{_ASCII_LABEL})*")
_MAX_NAME_LENGTH: Final = 253


# IDNA encoding costs ~80 us a name and one event normalises its domain several times (mapper, data model,
# subject, partition key); names repeat heavily across events, so a bounded cache makes it nearly free.
@lru_cache(maxsize=65536)
def normalize_domain(name: str) -> str:
    """Return `name` lower-cased in IDNA (punycode) form, without a trailing dot.

    UTS 46 mapping is applied first so that upper-case and full-width input map the way browsers map them.
    """
    cleaned = name.strip().rstrip(".")
    if not cleaned:
        raise InvalidDomainNameError("empty domain name")
    if cleaned.isascii():
        # For ASCII input IDNA yields the lower-cased name or refuses it: a structural check is enough, and skips
        # the ~80 us encoding, which dominated mapping time for names not yet in the cache.
        if len(cleaned) > _MAX_NAME_LENGTH or not _ASCII_NAME.fullmatch(cleaned):
            raise InvalidDomainNameError("not a valid domain name")
        return cleaned.lower()
    try:
        encoded = idna.encode(cleaned, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        # The message names the rule broken, never the name: names reach logs and quarantine headers.
        raise InvalidDomainNameError(f"not a valid domain name ({type(exc).__name__})") from exc
    if len(encoded) > _MAX_NAME_LENGTH or not _ASCII_NAME.fullmatch(encoded):
        raise InvalidDomainNameError("not a valid domain name")
    return encoded


def partition_key(*, domain: str | None, fallback: str) -> str:
    """The canonical partition key: the normalised domain where there is one, else the order/batch/task id.

    Keying every event of a domain by the domain keeps them in order on one partition.
    """
    if domain:
        return normalize_domain(domain)
    if not fallback:
        raise ValueError("an event without a domain needs a non-empty fallback key")
    return fallback
