"""Deduplicator service: reads `registrar.normalized.v1` (may hold duplicates), writes the public `registrar.events.v1`.

Delivery guarantee: effectively-once for read_committed consumers: each canonical id is published once, even when
a replica is killed at any point, because every batch (events, state changelog, input offsets) is one Kafka
transaction per input partition. Scales by running more replicas in the same consumer group (up to the input
topic's partition count).
"""
