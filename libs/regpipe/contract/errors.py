"""Errors raised by the canonical contract.

ContractError
├── InvalidDomainNameError      a domain name that cannot be normalised to IDNA form
├── RecordDecodeError      a Kafka record that is not a valid canonical event or raw record
└── SealError              a sealed raw value that cannot be opened (unknown key id, tampered bytes)
"""

from __future__ import annotations


class ContractError(Exception):
    """Base of every error the contract raises."""


class InvalidDomainNameError(ContractError, ValueError):
    """A domain name that cannot be normalised."""


class RecordDecodeError(ContractError):
    """A Kafka record that does not follow the contract."""


class SealError(ContractError):
    """A sealed raw record value that cannot be opened."""
