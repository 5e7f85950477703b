"""Test support: what an operator or another replica can do to a lease row behind its holder's back."""

from __future__ import annotations

import asyncpg

__all__ = ["take_over"]


async def take_over(dsn: str, name: str, *, for_s: float = 3600.0) -> None:
    """Give the lease to someone else (a new token) as a standby would after expiry, or a database restored from a
    backup might: the holder's next renewal is refused and it must stop."""
    admin = await asyncpg.connect(dsn)
    try:
        taken = await admin.fetchval(
            "UPDATE regpipe_leases SET holder = 'someone-else', token = token + 1,"
            " expires_at = clock_timestamp() + make_interval(secs => $2) WHERE name = $1 RETURNING token",
            name,
            for_s,
        )
    finally:
        await admin.close()
    assert taken is not None, f"lease {name} was never taken"
