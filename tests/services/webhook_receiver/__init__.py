"""Tests of the webhook receiver service: settings, and the receiver against the real Kafka broker."""
