"""Leader election so that replicated pollers never poll the same account twice at once.

`AdvisoryLease` is the lease (a PostgreSQL advisory lock per name); `run_while_leader` is the one loop every
replicated worker runs its work through.
"""

from regpipe.leadership.lease import AdvisoryLease, LeaseLostError, lease_key
from regpipe.leadership.loop import LeaderState, Lease, Shift, run_while_leader

__all__ = ["AdvisoryLease", "LeaderState", "Lease", "LeaseLostError", "Shift", "lease_key", "run_while_leader"]
