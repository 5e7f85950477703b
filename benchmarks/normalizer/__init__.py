"""Normalizer benchmark: the normalizer service against a bare aiokafka consume -> produce pass-through of the same
raw records, on the same broker, in the same run (`python -m benchmarks.normalizer`)."""
