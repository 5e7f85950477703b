-- The aggregator's read model (regpipe.aggregate): one table per aggregate, the per-domain timeline, the ids of the
-- events already applied, the transactional outbox of aggregate events and the expiry checkpoints produced.
--
-- Every aggregate row keeps its whole folded state in `state` (the pure fold's model as JSON, the source of truth
-- when the next event is folded in); the other columns are copies of it for filtering, paging and the read API.

-- Canonical ids applied to the read model: inserted in the same transaction as the change, so a re-delivered event
-- finds its id here and changes nothing.
CREATE TABLE agg_applied_events (
    event_id   uuid        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (provider, account, domain). Canonical events carry no account yet: `account` is '' until they do.
CREATE TABLE agg_domains (
    provider                 text        NOT NULL,
    account                  text        NOT NULL DEFAULT '',
    name                     text        NOT NULL,
    status                   text,
    expires_at               timestamptz,
    nameservers              text[]      NOT NULL DEFAULT '{}',
    verification_status      text,
    registrant_change_status text,
    last_event_id            uuid,
    last_event_type          text,
    last_event_time          timestamptz,
    state                    jsonb       NOT NULL,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, account, name)
);
-- Cursor paging of GET /domains walks (name, provider, account); the filters use their own leading column.
CREATE INDEX agg_domains_page ON agg_domains (name, provider, account);
CREATE INDEX agg_domains_status_page ON agg_domains (status, name, provider, account);
CREATE INDEX agg_domains_expiry ON agg_domains (expires_at) WHERE expires_at IS NOT NULL;

-- Most order batches (two stages: registration, then nameservers) and their orders.
CREATE TABLE agg_order_batches (
    provider           text        NOT NULL,
    batch_id           text        NOT NULL,
    status             text        NOT NULL,
    order_count        integer     NOT NULL DEFAULT 0,
    status_counts      jsonb       NOT NULL DEFAULT '{}',
    stage1_finished_at timestamptz,
    stage2_finished_at timestamptz,
    state              jsonb       NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, batch_id)
);

CREATE TABLE agg_orders (
    provider    text        NOT NULL,
    order_id    text        NOT NULL,
    batch_id    text        NOT NULL,
    domain      text,
    status      text,
    status_time timestamptz,
    error       jsonb,
    PRIMARY KEY (provider, order_id)
);
CREATE INDEX agg_orders_by_id ON agg_orders (order_id);
CREATE INDEX agg_orders_by_batch ON agg_orders (provider, batch_id);

-- Most bulk tasks with their per-item results (the contract has no field for an auth code: none can be stored).
CREATE TABLE agg_tasks (
    provider        text        NOT NULL,
    task_id         text        NOT NULL,
    task_type       text,
    status          text,
    succeeded_count integer     NOT NULL DEFAULT 0,
    failed_count    integer     NOT NULL DEFAULT 0,
    completed_at    timestamptz,
    state           jsonb       NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, task_id)
);
CREATE INDEX agg_tasks_by_id ON agg_tasks (task_id);

-- Cold Mail orders: the domain/mailbox events of one orderId grouped; settled after a quiet time (no expected count).
CREATE TABLE agg_coldmail_orders (
    order_id        text        PRIMARY KEY,
    item_count      integer     NOT NULL DEFAULT 0,
    failed_count    integer     NOT NULL DEFAULT 0,
    first_event_at  timestamptz,
    last_event_at   timestamptz,
    last_changed_at timestamptz NOT NULL,
    settled_at      timestamptz,
    settled_event_id uuid,
    state           jsonb       NOT NULL
);
-- The settler looks for open orders that have been quiet long enough.
CREATE INDEX agg_coldmail_orders_open ON agg_coldmail_orders (last_changed_at) WHERE settled_at IS NULL;

-- OpenSRS orders and transfers, OpusDNS operations (and transfers): current status, terminal flag, history in state.
CREATE TABLE agg_operations (
    kind        text        NOT NULL,  -- order | transfer | operation
    provider    text        NOT NULL,
    op_id       text        NOT NULL,
    domain      text,
    status      text,
    terminal    boolean     NOT NULL DEFAULT false,
    status_time timestamptz,
    state       jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, provider, op_id)
);
CREATE INDEX agg_operations_by_id ON agg_operations (kind, op_id);

-- Every canonical event per domain, for GET /domains/{name}/events (cursor: provider time, then event id).
CREATE TABLE agg_timeline (
    domain     text        NOT NULL,
    event_id   uuid        NOT NULL,
    event_time timestamptz NOT NULL,
    provider   text        NOT NULL,
    type       text        NOT NULL,
    outcome    text        NOT NULL,
    transport  text        NOT NULL,
    data       jsonb       NOT NULL,
    PRIMARY KEY (domain, event_id)
);
CREATE INDEX agg_timeline_page ON agg_timeline (domain, event_time, event_id);

-- Transactional outbox: aggregate events written with the change that caused them, relayed to Kafka by
-- regpipe.aggregate.relay (a re-sent id is dropped by the deduplicator); `sent_at` set once Kafka acknowledged.
CREATE TABLE agg_outbox (
    seq        bigserial   PRIMARY KEY,
    event_id   uuid        NOT NULL UNIQUE,
    key        bytea       NOT NULL,
    value      bytea       NOT NULL,
    headers    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX agg_outbox_unsent ON agg_outbox (seq) WHERE sent_at IS NULL;

-- Expiry checkpoints the pipeline produced for domains whose provider sends none: each (domain, expiry period,
-- checkpoint) once. A renewal moves `expires_at`, which opens a new period (re-armed).
CREATE TABLE agg_expiry_checkpoints (
    provider    text        NOT NULL,
    account     text        NOT NULL,
    domain      text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    checkpoint  integer     NOT NULL,
    due_at      timestamptz NOT NULL,
    event_id    uuid        NOT NULL UNIQUE,
    produced_at timestamptz NOT NULL,
    PRIMARY KEY (provider, account, domain, expires_at, checkpoint)
);
