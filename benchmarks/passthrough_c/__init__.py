"""Reference only: how fast a pass-through on the C client (librdkafka) copies the normalizer benchmark's records."""
