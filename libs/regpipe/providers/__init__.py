"""Provider adapters, one folder per provider, each of the same shape: `payloads` (the provider's payload
models), `mapping` (pure raw record -> canonical events), then `webhook` for providers that push, or `client` +
`poller` + `errors` for providers that are polled (plus the provider's own auth or protocol modules).
Simulators of the providers are a product of their own (`regpipe.simulators`), never imported from here."""
