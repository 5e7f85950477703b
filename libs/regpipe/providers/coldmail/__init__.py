"""Adapter for Cold Mail Reseller's webhooks: payload models (`payloads`), the pure mapper (`mapping`) and the
receiver's adapter (`webhook`: default authentication, event id and type). The simulator lives in
`regpipe.simulators.coldmail`."""
