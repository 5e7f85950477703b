"""Which events a subscription wants: event types (exact or `prefix.*`), sources, domain suffixes.

Pure: parsing refuses unknown syntax (so a typo is a 422, not a subscription that silently never matches), and
matching looks only at the event's type, source and subject.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from regpipe.contract import EventType, Source, normalize_domain
from regpipe.contract.errors import InvalidDomainNameError
from regpipe.delivery.errors import InvalidSubscriptionError

__all__ = ["EventFilter"]

_PREFIX = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.\*$")
_KNOWN_TYPES = frozenset(t.value for t in EventType)
_KNOWN_SOURCES = frozenset(s.value for s in Source)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """A parsed filter; an empty tuple means "any". Build it with `EventFilter.parse`."""

    exact_types: frozenset[str] = frozenset()
    type_prefixes: tuple[str, ...] = ()
    sources: frozenset[str] = frozenset()
    domain_suffixes: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls, event_types: Sequence[str] = (), sources: Sequence[str] = (), domain_suffixes: Sequence[str] = ()
    ) -> EventFilter:
        """Validate the three lists; raise `InvalidSubscriptionError` naming the first bad entry."""
        exact: set[str] = set()
        prefixes: list[str] = []
        for pattern in event_types:
            if pattern == "*":
                return cls._with(frozenset(), (), sources, domain_suffixes)
            if pattern in _KNOWN_TYPES:
                exact.add(pattern)
            elif _PREFIX.match(pattern):
                prefix = pattern[:-1]  # keep the dot: `domain.*` must not match `domains.x`
                if not any(t.startswith(prefix) for t in _KNOWN_TYPES):
                    raise InvalidSubscriptionError("event_types", f"{pattern!r} matches no known event type")
                prefixes.append(prefix)
            else:
                raise InvalidSubscriptionError(
                    "event_types", f"{pattern!r} is neither a known event type nor a `prefix.*` pattern"
                )
        return cls._with(frozenset(exact), tuple(prefixes), sources, domain_suffixes)

    @classmethod
    def _with(
        cls, exact: frozenset[str], prefixes: tuple[str, ...], sources: Sequence[str], suffixes: Sequence[str]
    ) -> EventFilter:
        unknown = [s for s in sources if s not in _KNOWN_SOURCES]
        if unknown:
            raise InvalidSubscriptionError("sources", f"unknown source(s) {unknown}; known: {sorted(_KNOWN_SOURCES)}")
        parsed: list[str] = []
        for suffix in suffixes:
            try:
                parsed.append(normalize_domain(suffix.strip().lstrip(".")))
            except InvalidDomainNameError as exc:
                raise InvalidSubscriptionError("domain_suffixes", f"{suffix!r} is not a domain suffix") from exc
        return cls(exact, prefixes, frozenset(sources), tuple(parsed))

    def matches(self, event_type: str, source: str, subject: str | None) -> bool:
        """True when the event passes every non-empty part of the filter."""
        if (self.exact_types or self.type_prefixes) and not (
            event_type in self.exact_types or any(event_type.startswith(p) for p in self.type_prefixes)
        ):
            return False
        if self.sources and source not in self.sources:
            return False
        if self.domain_suffixes:
            if subject is None:
                return False
            return any(subject == s or subject.endswith("." + s) for s in self.domain_suffixes)
        return True
