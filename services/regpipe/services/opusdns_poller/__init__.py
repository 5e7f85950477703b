"""The OpusDNS poller service: polls one OpusDNS account's pending events and publishes them to `registrar.raw.v1`.

Delivery guarantee: at-least-once. Each event of page 1 of the unacknowledged events (oldest first) is published
as its own raw record, and the events are acknowledged to OpusDNS (`PATCH /v1/events/{id}`) only after Kafka
acknowledged every record of the page (acks=all, idempotent producer). A crash or SIGKILL at any point loses
nothing: unacknowledged events are listed again and published again (duplicates are removed downstream). Replicas
elect one leader per account with a PostgreSQL advisory lock (`opusdns-poller:<account>`).
"""
