"""Deduplicator throughput against a transactional aiokafka pass-through (`python -m benchmarks.deduplicator`)."""
