"""Delivery service: canonical events from `registrar.events.v1` to subscriber webhooks, signed (Standard Webhooks).

Delivery guarantee: at-least-once to every matching endpoint, with the canonical event id as `webhook-id`. The
intake (FastStream, read_committed) stores one job per (subscription, event) in PostgreSQL before committing its
offsets; the dispatcher claims due jobs under a lease (`FOR UPDATE SKIP LOCKED`), and every pending retry is a
row, so a SIGKILL loses none. Scales by running more replicas: they share the topic's partitions and the jobs.
The admin API (bearer token), `/healthz`, `/readyz` and `/metrics` share one port. Design: `docs/delivery.md`.

FastStream runs the Kafka consumer. The dispatcher is plain asyncio over PostgreSQL (its queue is a table, not a
topic), and the DLQ outbox publishes with the project's aiokafka producer factory (acks=all, idempotent), which
the dispatcher awaits per batch before marking the rows published.
"""
