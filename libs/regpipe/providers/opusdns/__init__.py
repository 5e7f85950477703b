"""Adapter for the opusdns provider: payload models, mapping, authentication, client and simulator."""
