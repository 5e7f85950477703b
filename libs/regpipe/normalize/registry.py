"""The explicit registry of provider mappers the normalizer uses: source -> map function and its version.

Each provider's `mapping` module is imported by name here, so the set of mapped sources is visible in one place
and a broken provider module fails at start-up rather than on the first record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from regpipe.contract.taxonomy import Source
from regpipe.providers.coldmail import mapping as coldmail
from regpipe.providers.mapper import MapFunction
from regpipe.providers.most import mapping as most
from regpipe.providers.opensrs import authenticity as opensrs_authenticity
from regpipe.providers.opensrs import mapping as opensrs
from regpipe.providers.opusdns import mapping as opusdns

__all__ = ["Mapper", "MapperRegistry", "default_mappers"]


@dataclass(frozen=True, slots=True)
class Mapper:
    """One provider's pure mapping function and the version stamped on what it produces."""

    source: Source
    version: str
    map_record: MapFunction


#: What the processor looks mappers up in; a source missing from it is quarantined as `unknown_source`.
MapperRegistry = Mapping[Source, Mapper]


def default_mappers() -> MapperRegistry:
    """The mappers of every provider."""
    mappers = [
        Mapper(Source.MOST, most.MAPPER_VERSION, most.map_record),
        Mapper(Source.COLDMAIL, coldmail.MAPPER_VERSION, coldmail.map_record),
        # E-mail events only when a trusted server vouched for the mail (docs/email-authentication.md).
        Mapper(Source.OPENSRS, opensrs.MAPPER_VERSION, opensrs_authenticity.map_vouched_record),
        Mapper(Source.OPUSDNS, opusdns.MAPPER_VERSION, opusdns.map_record),
    ]
    return MappingProxyType({mapper.source: mapper for mapper in mappers})
