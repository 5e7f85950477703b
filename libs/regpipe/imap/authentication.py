"""Whether a trusted receiving mail server vouches for an e-mail: a DKIM pass for one of the provider's signing
domains, reported in an `Authentication-Results` field (RFC 8601) whose authserv-id is configured as trusted.

The parser does not verify DKIM itself: the mailbox holds the message as delivered, after the border MTA checked
the signature against DNS at receipt; checking again later would depend on keys that providers rotate. Fields of
any other authserv-id are ignored, as RFC 8601 section 7.1 asks. The receiving system must remove (or rename)
incoming fields that claim its own authserv-id (RFC 8601 section 5), or a sender could write its own "pass":
`docs/email-authentication.md` says how to set that up. Pure (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser

from regpipe.contract.raw import EmailAuth
from regpipe.imap.errors import ImapConfigError

__all__ = ["AuthResult", "SenderAuthentication", "parse_authentication_results"]

_FIELD = "Authentication-Results"
# RFC 8601 fields are short; a longer one is not worth reading (and bounds the work a hostile header costs).
_MAX_FIELD_CHARS = 8192
_MAX_FIELDS = 50
_WORD = r"[^\s;=\"()]+"  # an RFC 2045 token, loosely
_QUOTED = r"\"(?:[^\"\\]|\\.)*\""
_PAIR = re.compile(rf"({_WORD})\s*=\s*({_QUOTED}|{_WORD})")
_AUTHSERV = re.compile(rf"^\s*({_QUOTED}|{_WORD})")
_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")


@dataclass(frozen=True, slots=True)
class AuthResult:
    """One method's result of an `Authentication-Results` field, e.g. `dkim=pass header.d=example.com`."""

    authserv_id: str
    method: str
    result: str
    properties: tuple[tuple[str, str], ...]

    def value_of(self, name: str) -> str | None:
        """The value of `ptype.property` (e.g. `header.d`), lower-cased names; None when absent."""
        for key, value in self.properties:
            if key == name:
                return value
        return None


def parse_authentication_results(value: str) -> list[AuthResult]:
    """The results of one field value; [] for `none`, for a field too long to read, or one without authserv-id.

    Comments (parenthesised, nested) are dropped, quoted strings unquoted; method versions (`dkim/1`) are ignored.
    """
    if len(value) > _MAX_FIELD_CHARS:
        return []
    text = _without_comments(" ".join(value.split()))
    statements = _split_statements(text)
    head = _AUTHSERV.match(statements[0]) if statements else None
    if head is None:
        return []
    authserv_id = _unquote(head.group(1)).lower()
    results: list[AuthResult] = []
    for statement in statements[1:]:
        pairs = [(key.lower(), _unquote(val)) for key, val in _PAIR.findall(statement)]
        if not pairs:
            continue
        (method, result), properties = pairs[0], pairs[1:]
        results.append(
            AuthResult(
                authserv_id=authserv_id,
                method=method.split("/", 1)[0],
                result=result.lower(),
                properties=tuple((key, val) for key, val in properties if "." in key),
            )
        )
    return results


@dataclass(frozen=True, slots=True)
class SenderAuthentication:
    """Which receiving servers are trusted to report DKIM results, and which signing domains are the provider's.

    With no trusted authserv-id (the default) nothing is vouched for: every e-mail is `unverified`.
    """

    trusted_authserv_ids: frozenset[str] = frozenset()
    signing_domains: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.trusted_authserv_ids and not self.signing_domains:
            raise ImapConfigError("trusted authserv-ids are configured without the provider's DKIM signing domains")
        for domain in self.signing_domains:
            if not _DOMAIN.fullmatch(domain):
                raise ImapConfigError(f"signing domain {domain!r} must be a lower-case domain name")
        for authserv_id in self.trusted_authserv_ids:
            if not authserv_id or authserv_id != authserv_id.strip().lower() or ";" in authserv_id:
                raise ImapConfigError(f"authserv-id {authserv_id!r} must be lower-case, without spaces or ';'")

    def verdict(self, message: bytes) -> EmailAuth:
        """DKIM_PASS when a trusted field reports `dkim=pass` for a signing domain (`header.d`, else the domain of
        `header.i`); UNVERIFIED otherwise, including for a message whose header cannot be read."""
        if not self.trusted_authserv_ids:
            return EmailAuth.UNVERIFIED
        for result in self._trusted_results(message):
            if result.method == "dkim" and result.result == "pass" and self._is_signing_domain(result):
                return EmailAuth.DKIM_PASS
        return EmailAuth.UNVERIFIED

    def _trusted_results(self, message: bytes) -> Iterator[AuthResult]:
        try:
            header = BytesHeaderParser(policy=policy.compat32).parsebytes(message)
            values = header.get_all(_FIELD) or []
        except (ValueError, LookupError, TypeError, RecursionError):  # an unreadable header vouches for nothing
            return
        for value in values[:_MAX_FIELDS]:
            for result in parse_authentication_results(str(value)):
                if result.authserv_id in self.trusted_authserv_ids:
                    yield result

    def _is_signing_domain(self, result: AuthResult) -> bool:
        domain = result.value_of("header.d")
        if domain is None:
            identity = result.value_of("header.i")
            domain = identity.rpartition("@")[2] if identity else None
        return domain is not None and domain.lower().rstrip(".") in self.signing_domains


def _without_comments(text: str) -> str:
    """`text` with RFC 5322 comments removed (nested parentheses, quoted strings and escapes respected)."""
    out: list[str] = []
    depth = 0
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            out.append(char)
            quoted = char != '"'
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
            quoted = char == '"'
    return "".join(out)


def _split_statements(text: str) -> list[str]:
    """Split at `;` outside quoted strings."""
    statements: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            statements.append("".join(current))
            current = []
            continue
        current.append(char)
    statements.append("".join(current))
    return statements


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
