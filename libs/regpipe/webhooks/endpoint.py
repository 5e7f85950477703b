"""The hot path, `POST /webhooks/<provider>[/<token>]`, as a lean ASGI app: it authenticates the headers (a token
in full, a signature's headers and timestamp), only then reads the exact body bytes (bounded in size, time and
concurrency), verifies a signature over them, publishes them untouched to `registrar.raw.v1`, and answers 202 only
once Kafka acknowledged.

Answers: 202 published; 400 unreadable (content type, encoding, charset, empty body); 401 not
authenticated (never published; refused before its body is read where the headers tell); 404 unknown provider;
405 not a POST; 408 body not received in time; 413 body too large (by Content-Length or as streamed); 503 with
Retry-After when Kafka cannot take the record or too many bodies are being read, so the provider retries and
nothing is lost. A refusal before the body was read closes the connection, so what is left of it is never read.
A body that authenticates but is not JSON is still published: the normalizer quarantines it with its reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import orjson
from starlette.types import Receive, Scope, Send

from regpipe.contract.taxonomy import Transport
from regpipe.ingest.publisher import PublishedRecord, RawPublisher
from regpipe.kafka.errors import PublishError
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import INGEST_PUBLISH_FAILED, INGEST_PUBLISHED, INGEST_REJECTED, STAGE_LATENCY
from regpipe.webhooks.answers import ErrorAnswer
from regpipe.webhooks.errors import (
    BodyTimeoutError,
    BodyTooLargeError,
    KafkaUnavailableError,
    ReceiverBusyError,
    RequestRefusedError,
    UnreadableRequestError,
)
from regpipe.webhooks.limits import BodyLimits
from regpipe.webhooks.producer_link import ProducerLink
from regpipe.webhooks.route import ProviderRoute

__all__ = ["PATH_PREFIX", "STAGE", "WebhookEndpoint"]

PATH_PREFIX = "/webhooks/"
STAGE = "webhook_receiver"

_log = get_logger(__name__)
_JSON = (b"content-type", b"application/json")
_CLOSE = (b"connection", b"close")
_UNKNOWN = "unknown"


class WebhookEndpoint:
    """The ASGI app behind `PATH_PREFIX`; one instance serves every configured provider route."""

    def __init__(
        self,
        routes: Mapping[str, ProviderRoute],
        publisher: RawPublisher,
        link: ProducerLink,
        *,
        limits: BodyLimits,
        retry_after_s: int,
    ) -> None:
        self._routes = dict(routes)
        self._publisher = publisher
        self._link = link
        self._limits = limits
        self._max_body_bytes = limits.max_bytes
        self._reading = 0  # bodies being read now; one event loop per worker, so a plain counter suffices
        self._retry_after = (b"retry-after", str(retry_after_s).encode())
        # Bound once: a labelled child per request would cost a dict lookup and a lock each time.
        self._published = {
            name: INGEST_PUBLISHED.labels(source=route.adapter.source.value, transport=Transport.WEBHOOK.value)
            for name, route in self._routes.items()
        }
        self._latency = STAGE_LATENCY.labels(stage=STAGE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        route: ProviderRoute | None = None
        body_read = False
        try:
            route, path_token = self._resolve(scope)
            headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
            route.authenticator.check_headers(headers, path_token)
            self._check_declared_length(headers.get("content-length"))
            body = await self._read_bounded_body(receive)
            body_read = True
            record = await self._ingest(route, headers, body)
        except RequestRefusedError as refusal:
            self._count_refusal(route, refusal)
            await self._answer_refusal(send, refusal, close=not body_read)
        else:
            self._published[route.name].inc()
            # The hot path formats `AcceptedAnswer` by hand: a model instance per request costs more than the rest.
            body = b'{"status":"accepted","partition":%d,"offset":%d}' % (record.partition, record.offset)
            await _send(send, 202, body)
        finally:
            self._latency.observe(time.perf_counter() - started)

    def _resolve(self, scope: Scope) -> tuple[ProviderRoute, str | None]:
        segments = scope["path"][len(PATH_PREFIX) :].split("/")
        route = self._routes.get(segments[0])
        if route is None or len(segments) > 2 or (len(segments) == 2) != route.authenticator.uses_path_token:
            # A token segment on a route that takes none is a wrong URL, not a wrong token.
            raise RequestRefusedError("not_found", "no webhook route at this URL", status=404)
        if scope["method"] != "POST":
            raise RequestRefusedError("method_not_allowed", "webhooks are delivered with POST", status=405)
        return route, segments[1] if len(segments) == 2 else None

    async def _ingest(self, route: ProviderRoute, headers: Mapping[str, str], body: bytes) -> PublishedRecord:
        route.authenticator.verify_body(headers, body)
        content_type = _readable_content_type(headers)
        identity = route.adapter.identify(_parse_json(body), headers)
        if not self._link.started:
            raise KafkaUnavailableError("kafka_unavailable", "the receiver is not connected to Kafka yet")
        try:
            record = await self._publisher.publish(
                body,
                source=route.adapter.source,
                transport=Transport.WEBHOOK,
                content_type=content_type,
                provider_event_id=identity.event_id,
                provider_event_type=identity.event_type,
                # Only configuration names the account: a query string is not signed, so it must not change an event.
                account=route.account,
            )
        except PublishError as exc:
            _log.warning(
                "webhook not published",
                provider=route.name,
                ingest_id=exc.ingest_id,
                provider_event_id=identity.event_id,
                error=str(exc),
            )
            raise KafkaUnavailableError("kafka_unavailable", "Kafka did not acknowledge the event in time") from exc
        self._link.note_acknowledged()
        return record

    def _check_declared_length(self, declared: str | None) -> None:
        if declared is None:
            return
        if not (declared.isascii() and declared.isdigit()):
            raise UnreadableRequestError("invalid_content_length", "Content-Length is not a number")
        if int(declared) > self._max_body_bytes:
            raise BodyTooLargeError("body_too_large", f"the body is limited to {self._max_body_bytes} bytes")

    async def _read_bounded_body(self, receive: Receive) -> bytes:
        """The body, if a slot is free and it arrives within the read timeout: bodies held by slow or stalled
        senders would otherwise pile up without bound (each up to the size limit)."""
        if self._reading >= self._limits.max_concurrent:
            raise ReceiverBusyError("receiver_busy", "too many requests are being received; retry later")
        self._reading += 1
        try:
            async with asyncio.timeout(self._limits.read_timeout_s):
                return await self._read_body(receive)
        except TimeoutError:
            raise BodyTimeoutError(
                "body_timeout", f"the body did not arrive within {self._limits.read_timeout_s:g} s"
            ) from None
        finally:
            self._reading -= 1

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise UnreadableRequestError("client_disconnected", "the client left before sending the whole body")
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            # Chunked bodies declare no length: the limit holds for what actually arrives.
            if size > self._max_body_bytes:
                raise BodyTooLargeError("body_too_large", f"the body is limited to {self._max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _count_refusal(self, route: ProviderRoute | None, refusal: RequestRefusedError) -> None:
        source = route.adapter.source.value if route is not None else _UNKNOWN
        if isinstance(refusal, KafkaUnavailableError):
            INGEST_PUBLISH_FAILED.labels(source=source, transport=Transport.WEBHOOK.value).inc()
        else:
            INGEST_REJECTED.labels(source=source, transport=Transport.WEBHOOK.value, reason=refusal.code).inc()
            # No path, headers or body: the path may hold a token, the body secrets.
            _log.info(
                "webhook refused", provider=route.name if route else None, status=refusal.status, reason=refusal.code
            )

    async def _answer_refusal(self, send: Send, refusal: RequestRefusedError, *, close: bool) -> None:
        extra: tuple[tuple[bytes, bytes], ...] = ()
        if refusal.status == 503:
            extra = (self._retry_after,)
        elif refusal.status == 405:
            extra = ((b"allow", b"POST"),)
        if close:
            # The unread rest of the body is not ours to wait for: the server closes the connection after answering.
            extra = (*extra, _CLOSE)
        answer = ErrorAnswer(error=refusal.code, message=refusal.message)
        await _send(send, refusal.status, answer.model_dump_json().encode(), extra)


async def _send(send: Send, status: int, body: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    headers = [_JSON, (b"content-length", b"%d" % len(body)), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _readable_content_type(headers: Mapping[str, str]) -> str:
    """The content type to record; refuses what cannot be a JSON webhook (forms, XML, compressed bodies)."""
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        raise UnreadableRequestError("unsupported_content_encoding", "send the body uncompressed")
    declared = headers.get("content-type")
    if declared is None:
        return "application/json"  # both providers send JSON; a sender that omits the type still means it
    media_type, _, parameters = declared.partition(";")
    media_type = media_type.strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise UnreadableRequestError("unsupported_content_type", "webhooks must be sent as application/json")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnreadableRequestError("unsupported_charset", "JSON webhooks must be UTF-8")
    return declared.strip()


def _parse_json(body: bytes) -> object:
    """The parsed body, or None when it is not JSON (even not UTF-8): an authenticated body is published all the
    same, and the normalizer quarantines it with its reason, so nothing the provider sent is lost."""
    if not body:
        raise UnreadableRequestError("empty_body", "the request has no body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
