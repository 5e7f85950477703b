"""The aggregator: order, task, transfer and domain lifecycles folded from `registrar.events.v1` into a PostgreSQL
read model, aggregate events (settled orders, expiry checkpoints) published through a transactional outbox, and the
read API's queries.

`fold` is the pure centre; `store` applies events to PostgreSQL and holds the outbox; `consumer` is the FastStream
subscriber; `scheduler` runs checkpoints and settlement under a lease; `read` and `api` answer the read API.

Errors: `AggregateError` > `StoreUnavailableError`, `RelayError` (both retriable); `read.ReadError` for queries.
"""

from regpipe.aggregate.errors import AggregateError, RelayError, StoreUnavailableError

__all__ = ["AggregateError", "RelayError", "StoreUnavailableError"]
