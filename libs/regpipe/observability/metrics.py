"""The registry of every Prometheus metric the pipeline exports; metric names are spelled only here."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "AGGREGATOR_CHECKPOINTS",
    "AGGREGATOR_OUTBOX_SENT",
    "AGGREGATOR_READ_MODEL_ROWS",
    "AGGREGATOR_RECORDS",
    "AGGREGATOR_SETTLED",
    "DEDUP_DECISIONS",
    "DEDUP_INVALID",
    "DEDUP_STATE_SIZE",
    "DELIVERY_ATTEMPTS",
    "DELIVERY_ATTEMPT_SECONDS",
    "DELIVERY_DEAD",
    "DELIVERY_ENDPOINTS_DISABLED",
    "DELIVERY_IN_FLIGHT",
    "DELIVERY_JOBS_CREATED",
    "DELIVERY_SKIPPED",
    "EMPTY_MAPPINGS",
    "IMAP_MESSAGES",
    "IMAP_SESSION_ERRORS",
    "INGEST_PUBLISHED",
    "INGEST_PUBLISH_FAILED",
    "INGEST_REJECTED",
    "LEADER",
    "MAPPED_EVENTS",
    "MAPPER_ERRORS",
    "OFFSETS_COMMITTED",
    "POLL_ACKED",
    "POLL_BACKLOG",
    "POLL_BLOCKED",
    "POLL_ERRORS",
    "POLL_LAST_SUCCESS",
    "QUARANTINED",
    "RECORDS_CONSUMED",
    "STAGE_LATENCY",
]

INGEST_PUBLISHED = Counter(
    "regpipe_ingest_published_total", "Raw records acknowledged by Kafka", ["source", "transport"]
)
INGEST_PUBLISH_FAILED = Counter(
    "regpipe_ingest_publish_failed_total", "Raw records Kafka did not acknowledge", ["source", "transport"]
)
INGEST_REJECTED = Counter(
    "regpipe_ingest_rejected_total", "Requests or messages refused at ingest", ["source", "transport", "reason"]
)
IMAP_MESSAGES = Counter(
    "regpipe_imap_messages_total",
    "E-mails the IMAP parser handled: published (of which unextractable: no event JSON found) or ignored",
    ["account", "outcome"],
)
IMAP_SESSION_ERRORS = Counter(
    "regpipe_imap_session_errors_total", "IMAP sessions ended by an error and reopened", ["account", "error"]
)
POLL_ACKED = Counter("regpipe_poll_acked_total", "Provider events acknowledged to the provider", ["source"])
POLL_ERRORS = Counter("regpipe_poll_errors_total", "Provider API calls that failed", ["source", "kind"])
POLL_BACKLOG = Gauge(
    "regpipe_poll_backlog_events", "Provider events pending acknowledgement (last listing)", ["source", "account"]
)
POLL_BLOCKED = Gauge(
    "regpipe_poll_blocked",
    "1 while the oldest queued provider event can be neither polled nor acknowledged (nothing behind it moves)",
    ["source", "account"],
)
POLL_LAST_SUCCESS = Gauge(
    "regpipe_poll_last_success_timestamp_seconds", "Unix time of the last successful poll", ["source", "account"]
)
RECORDS_CONSUMED = Counter("regpipe_records_consumed_total", "Records a stage consumed", ["stage"])
MAPPED_EVENTS = Counter("regpipe_mapped_events_total", "Canonical events produced", ["stage", "source", "type"])
QUARANTINED = Counter("regpipe_quarantined_total", "Records sent to quarantine", ["source", "reason"])
MAPPER_ERRORS = Counter(
    "regpipe_mapper_errors_total",
    "Exceptions escaping a provider mapper (bugs; the record is quarantined)",
    ["source", "error"],
)
EMPTY_MAPPINGS = Counter(
    "regpipe_empty_mappings_total", "Raw records a mapper mapped to no canonical event", ["source"]
)
OFFSETS_COMMITTED = Counter(
    "regpipe_offsets_committed_total", "Input records whose offsets a stage committed", ["stage"]
)
STAGE_LATENCY = Histogram(
    "regpipe_stage_seconds",
    "Time to handle one record or request",
    ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
LEADER = Gauge("regpipe_leader", "1 while this replica holds the lease for an account", ["service", "account"])

DEDUP_DECISIONS = Counter(
    "regpipe_dedup_decisions_total",
    "Deduplicator verdicts (publish, duplicate, collision, correction), committed",
    ["verdict"],
)
DEDUP_INVALID = Counter(
    "regpipe_dedup_invalid_total", "Records on the normalized topic that were not canonical events (quarantined)"
)
DEDUP_STATE_SIZE = Gauge("regpipe_dedup_state_ids", "Published ids remembered per input partition", ["partition"])

DELIVERY_JOBS_CREATED = Counter(
    "regpipe_delivery_jobs_created_total", "Delivery jobs (subscription x event) the intake stored"
)
DELIVERY_SKIPPED = Counter(
    "regpipe_delivery_skipped_total",
    "Records of the public topic the delivery intake skipped: undecodable, or refused by PostgreSQL",
    ["reason"],
)
DELIVERY_ATTEMPTS = Counter("regpipe_delivery_attempts_total", "Webhook delivery attempts by verdict", ["verdict"])
DELIVERY_ATTEMPT_SECONDS = Histogram(
    "regpipe_delivery_attempt_seconds",
    "Duration of one webhook delivery attempt",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DELIVERY_DEAD = Counter("regpipe_delivery_dead_total", "Delivery jobs that exhausted their retry schedule")
DELIVERY_ENDPOINTS_DISABLED = Counter(
    "regpipe_delivery_endpoints_disabled_total", "Subscriber endpoints disabled automatically", ["reason"]
)
DELIVERY_IN_FLIGHT = Gauge("regpipe_delivery_in_flight", "Webhook requests this replica has in flight")

AGGREGATOR_RECORDS = Counter(
    "regpipe_aggregator_records_total",
    "Records the aggregator consumed, by outcome (applied, duplicate, own, unknown_type, invalid), committed",
    ["outcome"],
)
AGGREGATOR_OUTBOX_SENT = Counter(
    "regpipe_aggregator_outbox_sent_total", "Aggregate events relayed from the outbox and acknowledged by Kafka"
)
AGGREGATOR_SETTLED = Counter("regpipe_aggregator_orders_settled_total", "Cold Mail orders settled after the quiet time")
AGGREGATOR_CHECKPOINTS = Counter(
    "regpipe_aggregator_checkpoints_total", "Expiry checkpoints the pipeline produced", ["provider", "checkpoint"]
)
AGGREGATOR_READ_MODEL_ROWS = Gauge("regpipe_read_model_rows", "Rows of the aggregator's read model", ["table"])
