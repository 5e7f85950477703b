"""Tests of the normalizer stage library."""
