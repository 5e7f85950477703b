"""Tests of logs, redaction and tracing (`regpipe.observability`)."""
