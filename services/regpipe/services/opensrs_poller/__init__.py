"""The OpenSRS poller service: polls one reseller account's event queue and publishes to `registrar.raw.v1`.

Delivery guarantee: at-least-once. Each event of a POLL reply is published as its own raw record (the reply's
envelope around it), and the reply's events are ACKed to OpenSRS only after Kafka acknowledged every one of them
(acks=all, idempotent producer). A reply the XML parser refuses is kept once as a raw record (the normalizer
quarantines it); when the oldest event itself is refused, `/readyz` reports the account blocked. A crash or
SIGKILL at any point loses nothing: unACKed events come back on the next poll and are published again (duplicates
are removed downstream). Replicas elect one leader per account with a PostgreSQL advisory lock.
"""
