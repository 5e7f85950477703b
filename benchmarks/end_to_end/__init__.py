"""End-to-end latency of the pipeline: webhook POST to the event readable on the public topic (read_committed)."""
