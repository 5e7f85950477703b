-- Bookkeeping for the migration runner (regpipe.pg.migrate): one row per applied file.
CREATE TABLE schema_migrations (
    version    text        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
