"""The webhook receiver service: `POST /webhooks/<provider>` for Most and Cold Mail Reseller.

Delivery guarantee: at-least-once into `registrar.raw.v1`. A webhook is answered 202 only after Kafka acknowledged
its exact bytes (acks=all, idempotent producer); when Kafka cannot take it the answer is 503 with Retry-After, so
the provider sends it again. A crash between the acknowledgement and the answer makes the provider retry, which
can write the same body twice: the deduplicator removes such duplicates downstream.

Secrets in payloads (Cold Mail passwords, app passwords and TOTP secrets; Most EPP `authInfo`) stay in the raw
record, because replay must be able to re-map it. Their protection: with `RAW_SEAL_KEYS`/`RAW_SEAL_ACTIVE_KEY` set,
every raw value is sealed (AES-256-GCM, key id in the `seal` header) before it leaves the process, and in
production the raw topic's ACLs admit only the ingestors (write) and the normalizer and replay tooling (read).
Bodies, tokens and signatures are never logged; uvicorn's access log is off because a path-token URL is a secret.

Hostile callers: a request is authenticated from its headers (a token in full, a signature's headers and timestamp)
before its body is read, and refused with the connection closed otherwise; at most `WEBHOOK_MAX_CONCURRENT_BODIES`
bodies are read at once per worker (503 + Retry-After beyond), each within `WEBHOOK_BODY_READ_TIMEOUT_S` (408).
"""
