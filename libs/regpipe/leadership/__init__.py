"""Leader election so that replicated pollers never poll the same account twice at once."""

from regpipe.leadership.lease import AdvisoryLease, LeaseLostError, lease_key

__all__ = ["AdvisoryLease", "LeaseLostError", "lease_key"]
