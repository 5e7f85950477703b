"""Tests of the normalizer service, run as real processes."""
