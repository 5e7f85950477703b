"""PostgreSQL schema for regpipe: versioned SQL migrations and the runner that applies them.

Exceptions:

    PgError           anything this package could not do with PostgreSQL
    └── MigrationError  a migration file is malformed, duplicated, or failed to apply
"""

from regpipe.pg.errors import CONNECTION_LOST, MigrationError, PgError
from regpipe.pg.migrate import apply_migrations, list_migrations

__all__ = ["CONNECTION_LOST", "MigrationError", "PgError", "apply_migrations", "list_migrations"]
