"""Aggregator service: folds `registrar.events.v1` into the PostgreSQL read model, serves the read API, and publishes
aggregate events (Cold Mail `order.settled`, expiry checkpoints as `domain.expiring`).

Guarantees: effectively-once state (each event id is recorded in the transaction that applies it; a batch is
acknowledged on Kafka only after that transaction committed, so a SIGKILL at any point loses nothing and a
redelivered event changes nothing). Aggregate events: at-least-once from the transactional outbox into
`registrar.normalized.v1`, deterministic ids, so exactly once on `registrar.events.v1` after the deduplicator.
Replicas split the partitions (one consumer group); the scheduler runs on the lease holder only.
"""
