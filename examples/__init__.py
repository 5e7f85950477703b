"""Runnable examples for the teams that consume regpipe's topics (docs/consumers.md)."""
