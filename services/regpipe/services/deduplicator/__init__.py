"""Deduplicator service: reads `registrar.normalized.v1`, writes the public `registrar.events.v1`.

Delivery guarantee today: at-least-once (a verified pass-through; offsets are committed only after the public
topic acknowledged every record of a batch). Scales by running more replicas in the same consumer group.
"""
