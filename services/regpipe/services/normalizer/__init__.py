"""Normalizer service: reads `registrar.raw.v1`, writes canonical events to `registrar.normalized.v1` and what
cannot be mapped to `registrar.quarantine.v1` (with the reason).

Delivery guarantee: at-least-once into both output topics. A batch's input offsets are committed only after
Kafka acknowledged every record produced for it, so a crash re-maps (never loses) the uncommitted batch; the
duplicates that can follow carry the same deterministic canonical id and are dropped by the deduplicator. Scales
by running more replicas in the same consumer group (up to the raw topic's partition count).
"""
