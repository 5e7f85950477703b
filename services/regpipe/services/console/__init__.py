"""Console service: the operator console (web pages over the read API, the delivery admin API, the quarantine topic
and every service's metrics), with `/healthz`, `/readyz` and `/metrics` on the same port.

It holds no data of its own and writes nothing but through the delivery admin API (operator actions), so any
number of replicas may run; they share nothing but the session secret, which signs the session cookie.
"""
