"""Provider adapters, one folder per provider, each of the same shape: `payloads.py` (the provider's payload
models), `mapping.py` (pure raw record -> canonical events), authentication, API client and simulator."""
