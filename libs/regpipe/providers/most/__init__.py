"""Adapter for the most provider: payload models, mapping, authentication, client and simulator."""
