"""Reading domain names out of payloads: a name that is not a domain quarantines the record as `invalid_domain`."""

from __future__ import annotations

from regpipe.contract.errors import InvalidDomainNameError
from regpipe.contract.names import normalize_domain
from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["domain_of_address", "domain_or_none", "payload_domain"]


def payload_domain(value: str | None, *, field: str = "domain") -> str | None:
    """The normalised domain name (`INVALID_DOMAIN` when it is not one), or None when absent."""
    if value is None:
        return None
    try:
        return normalize_domain(value)
    except InvalidDomainNameError:
        # The contract's message quotes the name; the quarantine record keeps the payload, the text need not.
        raise MappingError(QuarantineReason.INVALID_DOMAIN, f"{field}: not a valid domain name") from None


def domain_or_none(value: str) -> str | None:
    """The normalised domain when `value` is one, else None: for fields that hold a name or an id."""
    try:
        return normalize_domain(value)
    except InvalidDomainNameError:
        return None


def domain_of_address(email: str | None) -> str | None:
    """The domain part of an e-mail address (not normalised), or None when it has none."""
    if email and "@" in email:
        return email.rsplit("@", 1)[1]
    return None
