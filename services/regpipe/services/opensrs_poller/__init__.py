"""The OpenSRS poller service: polls one reseller account's event queue and publishes to `registrar.raw.v1`.

Delivery guarantee: at-least-once. Each POLL reply is published whole, exactly as received, and its events are
ACKed to OpenSRS only after Kafka acknowledged the record (acks=all, idempotent producer). A crash or SIGKILL at
any point loses nothing: unACKed events come back on the next poll and are published again (duplicates are
removed downstream). Replicas elect one leader per account with a PostgreSQL advisory lock.
"""
