"""The read model's queries (for the read API and any other caller) and the views they return.

Errors: `ReadError` > `NotFoundError` (404), `BadQueryError` (422).
"""

from regpipe.aggregate.read import views
from regpipe.aggregate.read.errors import BadQueryError, NotFoundError, ReadError
from regpipe.aggregate.read.params import parse_duration
from regpipe.aggregate.read.queries import (
    MAX_PAGE,
    domain_events,
    get_batch,
    get_domain,
    get_order,
    get_task,
    get_transfer,
    list_domains,
    read_model_counts,
)

__all__ = [
    "MAX_PAGE",
    "BadQueryError",
    "NotFoundError",
    "ReadError",
    "domain_events",
    "get_batch",
    "get_domain",
    "get_order",
    "get_task",
    "get_transfer",
    "list_domains",
    "parse_duration",
    "read_model_counts",
    "views",
]
