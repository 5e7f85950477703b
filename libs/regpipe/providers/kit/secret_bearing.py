"""Secret-bearing payloads are read by allow-list: only modelled fields known to be safe are kept.

A list of forbidden names cannot keep up with what providers call a secret (`code`, `pw`, `authInfoPw`,
`credentials: {user, pass}`, `[{"name": "authInfo", "value": ...}]`, `recoveryCodes`, ...). So for an event type
that carries credentials (Most `domain.get_auth_info` results, Cold Mail mailbox and pre-warm-up events) the
mapper keeps only the fields its payload model names, drops the documented secret fields, and quarantines the
record as `unsafe_fields` when anything else is present rather than publish a guess. Strings it does keep are
scanned for what is a credential whatever its field: `otpauth://` URIs and URLs with a password in them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Final

from pydantic import BaseModel

from regpipe.contract.events.base import is_secret_key
from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["screen_kept_strings", "withhold_known_secrets"]

# `otpauth://` carries a TOTP seed; `scheme://user:password@host` (SMTP, IMAP, HTTP, ...) a password, which a
# careless provider may not even percent-encode (so the password part runs up to the last `@` before a `/`):
# `otpauth://|[a-z][a-z0-9+.-]*://[^\s/@:]*:[^\s/]*@`, case-insensitive. It is searched read backwards, in the
# reversed text (a text holds a match exactly when its reverse holds a match of the reversed pattern): forwards,
# every letter of a URL's host and path starts a scheme attempt that runs to the end of its word (about 20 us for
# an ordinary 77-character avatar URL); backwards, an attempt starts only at an `@` or a `//:` (about 1 us).
_CREDENTIAL_TEXT_REVERSED: Final = re.compile(r"//:htuapto|@[^\s/]*:[^\s/@:]*//:[a-z0-9+.-]*[a-z]", re.IGNORECASE)


def withhold_known_secrets(extras: Mapping[str, object], secrets: Collection[str] = (), *, where: str) -> bool:
    """Whether `extras` (the fields of a secret-bearing payload that no model names) held a known secret field,
    which is dropped: one of `secrets` (the provider's documented ones) or a name that is a secret whatever the
    provider (`is_secret_key`). `UNSAFE_FIELDS` when anything else is there.

    Field names and values are never quoted: either may be the secret.
    """
    known = [key in secrets or is_secret_key(key) for key in extras]
    unknown = known.count(False)
    if unknown:
        raise MappingError(
            QuarantineReason.UNSAFE_FIELDS,
            f"{where}: {unknown} field(s) not known to be safe in an event that carries credentials",
        )
    return any(known)


def screen_kept_strings(data: BaseModel, *, where: str) -> None:
    """`UNSAFE_FIELDS` when a string kept in `data` holds an `otpauth://` URI or a URL with a password."""
    texts: list[str] = []
    stack: list[object] = [data.model_dump(mode="json")]
    while stack:  # iterative: the kept data is bounded by the kit's nesting limit, but no walk recurses
        item = stack.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    # One search over the texts joined by newlines finds what a search of each finds: no match can span a newline
    # (both forms need `://` and neither lets whitespace into a match). Most texts hold no `://` at all.
    joined = "\n".join(texts)
    if "://" in joined and _CREDENTIAL_TEXT_REVERSED.search(joined[::-1]):
        raise MappingError(QuarantineReason.UNSAFE_FIELDS, f"{where}: a kept text holds a credential")
