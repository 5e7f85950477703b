"""The webhook receiver service: `POST /webhooks/<provider>` for Most and Cold Mail Reseller.

Delivery guarantee: at-least-once into `registrar.raw.v1`. A webhook is answered 202 only after Kafka acknowledged
its exact bytes (acks=all, idempotent producer); when Kafka cannot take it the answer is 503 with Retry-After, so
the provider sends it again. A crash between the acknowledgement and the answer makes the provider retry, which
can write the same body twice: the deduplicator removes such duplicates downstream.
"""
