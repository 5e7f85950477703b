"""Per-aggregate transaction locks: PostgreSQL advisory locks taken in one global order.

Events of one domain share a partition, but a batch, an order or a task hears from several partitions (batch events
keyed by batch id, per-order events keyed by domain), so two replicas may update the same aggregate at once. Each
transaction locks every aggregate it will read-fold-write, sorted by lock key, before reading: concurrent writers of
one aggregate serialise, and the global order rules out deadlocks between them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from regpipe.aggregate.store.connection import Connection

__all__ = ["aggregate_lock_key", "lock_aggregates"]


def aggregate_lock_key(kind: str, *parts: str) -> int:
    """The signed 64-bit advisory-lock key of one aggregate."""
    material = "\x1f".join(("regpipe-aggregate", kind, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(material, digest_size=8).digest(), "big", signed=True)


async def lock_aggregates(conn: Connection, keys: Iterable[int]) -> None:
    """Take the transaction-scoped locks of `keys` in ascending order (released at commit or rollback)."""
    ordered = sorted(set(keys))
    if ordered:
        await conn.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM unnest($1::bigint[]) AS k ORDER BY k) AS s",
            ordered,
        )
