"""Webhook receiver benchmark: the receiver service against a bare ASGI endpoint that does nothing, on the same
server (uvicorn, uvloop, httptools) under the same load, next to a real Kafka broker
(`python -m benchmarks.webhook_receiver`)."""
