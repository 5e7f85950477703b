"""Tests of the webhook receiver library (`regpipe.webhooks`)."""
