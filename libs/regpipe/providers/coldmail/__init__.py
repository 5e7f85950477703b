"""Adapter for the coldmail provider: payload models, mapping, authentication, client and simulator."""
