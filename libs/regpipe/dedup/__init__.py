"""The deduplicator stage: from `registrar.normalized.v1` (may hold duplicates) to the public `registrar.events.v1`."""

from regpipe.dedup.forwarder import ForwarderConfig, run_forwarder

__all__ = ["ForwarderConfig", "run_forwarder"]
