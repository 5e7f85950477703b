"""The aggregator: order, task, transfer and domain lifecycles folded from `registrar.events.v1` into a PostgreSQL
read model, aggregate events (settled orders, expiry checkpoints) published through a transactional outbox, and the
read API's queries.

`fold` is the pure centre; `store` applies events to PostgreSQL; `outbox` relays aggregate events to Kafka;
`checkpoints` schedules expiry reminders; `read` answers the read API.
"""
