"""Adapter for the opensrs provider: payload models, mapping, authentication, client and simulator."""
