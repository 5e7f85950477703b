-- Delivery of canonical events to subscriber webhooks (docs/delivery.md).

-- One row per subscriber endpoint. Filters are lists; an empty list means "any".
CREATE TABLE delivery_subscriptions (
    id               uuid        PRIMARY KEY,
    url              text        NOT NULL,
    description      text        NOT NULL DEFAULT '',
    event_types      text[]      NOT NULL DEFAULT '{}',   -- exact types and `prefix.*` patterns
    sources          text[]      NOT NULL DEFAULT '{}',
    domain_suffixes  text[]      NOT NULL DEFAULT '{}',
    enabled          boolean     NOT NULL DEFAULT true,
    disabled_reason  text,
    max_concurrency  integer     NOT NULL DEFAULT 4 CHECK (max_concurrency BETWEEN 1 AND 256),
    rate_limit_per_s real        CHECK (rate_limit_per_s IS NULL OR rate_limit_per_s > 0),
    ordered          boolean     NOT NULL DEFAULT false,  -- one job at a time per partition key (domain)
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Signing secrets; a rotated-out secret keeps signing until `expires_at` (the overlap). Sealed with AES-GCM under
-- key `seal_kid` of the service's key ring when one is configured (NULL: stored as is).
CREATE TABLE delivery_secrets (
    id              bigserial   PRIMARY KEY,
    subscription_id uuid        NOT NULL REFERENCES delivery_subscriptions (id) ON DELETE CASCADE,
    secret          bytea       NOT NULL,
    seal_kid        text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz           -- NULL: current
);
CREATE INDEX delivery_secrets_subscription ON delivery_secrets (subscription_id);

-- Each canonical event a subscription matched, stored once: the exact body every attempt sends.
CREATE TABLE delivery_events (
    event_id      uuid        PRIMARY KEY,
    event_type    text        NOT NULL,
    source        text        NOT NULL,
    subject       text,
    partition_key text        NOT NULL,
    event_time    timestamptz NOT NULL,
    body          bytea       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_events_time ON delivery_events (event_time);

-- One job per (subscription, event): the durable retry schedule. States: pending (due at next_attempt_at),
-- sending (claimed under a lease), delivered, dead (exhausted; published to the DLQ topic by the outbox column).
CREATE TABLE delivery_jobs (
    id               bigserial   PRIMARY KEY,
    subscription_id  uuid        NOT NULL REFERENCES delivery_subscriptions (id) ON DELETE CASCADE,
    event_id         uuid        NOT NULL REFERENCES delivery_events (event_id),
    partition_key    text        NOT NULL,
    state            text        NOT NULL DEFAULT 'pending'
                                 CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    lease_until      timestamptz,
    last_status      integer,
    last_error       text,
    redeliveries     integer     NOT NULL DEFAULT 0,
    dlq_published_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX delivery_jobs_due ON delivery_jobs (subscription_id, next_attempt_at) WHERE state = 'pending';
CREATE INDEX delivery_jobs_leased ON delivery_jobs (lease_until) WHERE state = 'sending';
CREATE INDEX delivery_jobs_dead ON delivery_jobs (updated_at) WHERE state = 'dead';
CREATE INDEX delivery_jobs_dlq_outbox ON delivery_jobs (id) WHERE state = 'dead' AND dlq_published_at IS NULL;
CREATE INDEX delivery_jobs_ordering ON delivery_jobs (subscription_id, partition_key, id)
    WHERE state IN ('pending', 'sending');

-- Every attempt, successful or not.
CREATE TABLE delivery_attempts (
    id              bigserial   PRIMARY KEY,
    job_id          bigint      NOT NULL REFERENCES delivery_jobs (id) ON DELETE CASCADE,
    subscription_id uuid        NOT NULL,
    event_id        uuid        NOT NULL,
    attempted_at    timestamptz NOT NULL,
    outcome         text        NOT NULL,  -- delivered, retry, gone, dead
    status_code     integer,
    latency_ms      double precision NOT NULL,
    error           text,
    response_body   text,                  -- truncated
    sent_by         text                   -- the replica (lease owner) that made the attempt
);
CREATE INDEX delivery_attempts_subscription ON delivery_attempts (subscription_id, attempted_at DESC);
CREATE INDEX delivery_attempts_event ON delivery_attempts (event_id, attempted_at DESC);

-- Health per endpoint: when it last succeeded, since when it fails, whether a Retry-After pauses it.
CREATE TABLE delivery_endpoint_health (
    subscription_id      uuid        PRIMARY KEY REFERENCES delivery_subscriptions (id) ON DELETE CASCADE,
    last_success_at      timestamptz,
    last_failure_at      timestamptz,
    failing_since        timestamptz,
    consecutive_failures integer     NOT NULL DEFAULT 0,
    paused_until         timestamptz
);

-- What operators must hear about (an endpoint disabled automatically, and why).
CREATE TABLE delivery_operator_events (
    id              bigserial   PRIMARY KEY,
    subscription_id uuid        NOT NULL,
    kind            text        NOT NULL,
    reason          text        NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
