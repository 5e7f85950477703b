"""Leader election so that replicated pollers never poll the same account twice at once.

`ExpiringLease` is the lease (a PostgreSQL row per name that expires unless renewed, with a fencing token);
`run_while_leader` is the one loop every replicated worker runs its work through. See `docs/leadership.md`.
"""

from regpipe.leadership.lease import DEFAULT_TTL_S, AdvisoryLease, ExpiringLease, LeaseLostError, lease_key
from regpipe.leadership.loop import BackoffHook, LeaderState, Lease, Shift, run_while_leader

__all__ = [
    "DEFAULT_TTL_S",
    "AdvisoryLease",
    "BackoffHook",
    "ExpiringLease",
    "LeaderState",
    "Lease",
    "LeaseLostError",
    "Shift",
    "lease_key",
    "run_while_leader",
]
