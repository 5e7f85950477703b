-- Indexes for the operator console's listings (regpipe.aggregate.read.listings): every listing is newest first and
-- cursor-paged on (time, provider, id), so its first page (and every later one) is an index range scan.

-- Domain search by name prefix: byte order ("C" collation), so a prefix is one contiguous index range.
CREATE INDEX agg_domains_name_prefix ON agg_domains ((name COLLATE "C"), provider, account);

CREATE INDEX agg_order_batches_recent ON agg_order_batches (updated_at, provider, batch_id);
CREATE INDEX agg_tasks_recent ON agg_tasks (updated_at, provider, task_id);
CREATE INDEX agg_operations_recent ON agg_operations (kind, (coalesce(status_time, updated_at)), provider, op_id);
CREATE INDEX agg_orders_recent ON agg_orders ((coalesce(status_time, 'epoch'::timestamptz)), provider, order_id);
CREATE INDEX agg_coldmail_orders_recent ON agg_coldmail_orders ((coalesce(last_event_at, last_changed_at)), order_id);
