"""Tests of the replay and consumer-group tools."""
