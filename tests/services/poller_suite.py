"""One suite for every poller service, run against each provider's simulator (as FastStream runs one suite per
broker): the service as real processes against the real broker and PostgreSQL, SIGKILLed between publishing and
acknowledging or mid-stream, two replicas of which only the leader polls, and wrong credentials.

A provider's test module subclasses `PollerServiceSuite` and gives the `provider` fixture: a `PolledProvider`, the
small adapter that says how to configure its service and how to ask its simulator what happened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
from prometheus_client.parser import text_string_to_metric_families

from regpipe.kafka import ensure_topics
from regpipe.stack.ports import free_port
from tests.kafka_io import RawTail
from tests.service_process import ServiceUnderTest

__all__ = ["Ack", "HoldsAcks", "PolledProvider", "PollerServiceSuite", "service_env", "until"]


@dataclass(frozen=True, slots=True)
class Ack:
    """One acknowledgement the simulator applied, and when (Unix time)."""

    event_id: str
    acked_at: float


class HoldsAcks(Protocol):
    """What every provider simulator offers to hold acknowledgements (`regpipe.simulators.kit.HeldAcks`)."""

    def hold_acks(self) -> None: ...

    def release_acks(self) -> None: ...

    async def wait_for_held_ack(self, timeout_s: float) -> None: ...


class PolledProvider(Protocol):
    """What the suite needs to know of one provider: its service, its simulator, its raw records."""

    @property
    def service(self) -> str:
        """The module under `regpipe.services` (`opensrs_poller`)."""
        ...

    @property
    def source(self) -> str:
        """The `source` label of the poller metrics."""
        ...

    @property
    def lease_labels(self) -> dict[str, str]:
        """The labels of this account's `regpipe_leader` gauge."""
        ...

    @property
    def account(self) -> str:
        """The account polled, as the raw records' `account` header names it."""
        ...

    def serve(self) -> AbstractAsyncContextManager[str]:
        """Serve the simulator on a loopback port; yields its base URL."""
        ...

    def env(self, url: str) -> dict[str, str]:
        """The provider's part of the service's environment: the simulator, fast intervals, short backoffs."""
        ...

    def wrong_credentials(self) -> tuple[dict[str, str], str]:
        """Variables that make the service authenticate wrongly (and pause long after), and that wrong secret."""
        ...

    def generate(self, n: int) -> list[str]:
        """Queue `n` new events at the provider; their ids."""
        ...

    def pending(self) -> list[str]:
        """Ids of the events still waiting for an acknowledgement, oldest first."""
        ...

    def acked(self) -> list[Ack]:
        """Every applied acknowledgement, in order."""
        ...

    @property
    def simulator(self) -> HoldsAcks:
        """The simulator itself, for holding its acknowledgements."""
        ...

    def event_ids(self, value: bytes) -> tuple[str, ...]:
        """The event ids one raw record value of this provider holds."""
        ...


async def until(
    condition: Callable[[], bool | Awaitable[bool]],
    *services: ServiceUnderTest,
    timeout_s: float = 60.0,
) -> None:
    """Wait until `condition()` holds; fail at once if one of `services` died meanwhile."""
    async with asyncio.timeout(timeout_s):
        while True:
            outcome = condition()
            if outcome if isinstance(outcome, bool) else await outcome:
                return
            for service in services:
                assert service.returncode is None, service.log[-3000:]
            await asyncio.sleep(0.05)


async def _metric(http: httpx.AsyncClient, port: int, name: str, labels: dict[str, str]) -> float:
    """A sample of a replica's /metrics (0 while it does not answer yet)."""
    try:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.TransportError:
        return 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def _equals(value: Awaitable[float], expected: float) -> bool:
    return await value == expected


async def _ready(http: httpx.AsyncClient, port: int) -> bool:
    """True once the replica's /readyz answers 200 (a replica still starting does not listen yet)."""
    try:
        return (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
    except httpx.TransportError:
        return False


def service_env(provider: PolledProvider, url: str, kafka_bootstrap: str, pg_dsn: str, **extra: str) -> dict[str, str]:
    """The whole environment of one replica: what every poller shares, then the provider's part."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "POSTGRES_DSN": pg_dsn,
        # A SIGKILLed leader is replaced (and a restarted one leads again) within 8 s; a leader starved of CPU for
        # less than that on a loaded machine keeps its lease.
        "LEASE_TTL_S": "8",
        "LEASE_RETRY_INTERVAL_S": "0.2",
        "LEASE_CHECK_INTERVAL_S": "0.5",
        "HEALTH_HOST": "127.0.0.1",
        **provider.env(url),
        **extra,
    }


def _assert_acked_only_after_publishing(raw: RawTail, acks: Iterable[Ack]) -> None:
    for ack in acks:
        record = raw.first_record_of(ack.event_id)  # ValueError if it never reached the raw topic
        assert ack.acked_at >= record.timestamp_s, f"{ack.event_id} acknowledged before Kafka had it"


class PollerServiceSuite:
    """The scenarios every poller service must pass; subclasses provide the `provider` fixture."""

    async def test_sigkill_after_publishing_before_acknowledging_republishes_on_restart(
        self, provider: PolledProvider, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
    ) -> None:
        await ensure_topics(kafka_bootstrap)
        first = provider.generate(1)
        provider.simulator.hold_acks()
        async with RawTail(kafka_bootstrap, provider.account, provider.event_ids) as raw, provider.serve() as url:
            service = ServiceUnderTest(provider.service, service_env(provider, url, kafka_bootstrap, pg_dsn), tmp_path)
            service.start()
            try:
                await provider.simulator.wait_for_held_ack(timeout_s=60)  # published, now acknowledging
                await raw.wait_for_events(first)
                service.kill()
                await asyncio.sleep(0.3)  # let the server see the connection close before the ack is let through
                provider.simulator.release_acks()  # the held acknowledgement finds its client gone: never applied
                await asyncio.sleep(0.3)
                assert provider.acked() == []
                assert provider.pending() == first

                later = provider.generate(7)
                service.start()
                await until(lambda: not provider.pending(), service)
                await raw.wait_for_events(later)
            finally:
                exit_code = service.stop()
            await raw.drain()
        assert exit_code == 0, service.log[-3000:]
        assert sum(first[0] in record.event_ids for record in raw.records) == 2  # published again after restart
        assert {ack.event_id for ack in provider.acked()} == {*first, *later}
        _assert_acked_only_after_publishing(raw, provider.acked())

    async def test_sigkill_mid_stream_twice_loses_nothing(
        self, provider: PolledProvider, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
    ) -> None:
        await ensure_topics(kafka_bootstrap)
        events = provider.generate(90)
        async with RawTail(kafka_bootstrap, provider.account, provider.event_ids) as raw, provider.serve() as url:
            service = ServiceUnderTest(provider.service, service_env(provider, url, kafka_bootstrap, pg_dsn), tmp_path)
            try:
                for kill_after in (20, 50):
                    service.start()
                    await until(lambda: len(provider.acked()) >= kill_after, service)  # noqa: B023 -- awaited here
                    service.kill()
                    assert provider.pending(), "the stream ended before the kill"
                service.start()
                await until(lambda: not provider.pending(), service)
            finally:
                exit_code = service.stop()
            await raw.wait_for_events(events)
        assert exit_code == 0, service.log[-3000:]
        assert sorted(ack.event_id for ack in provider.acked()) == sorted(events)  # each exactly once
        _assert_acked_only_after_publishing(raw, provider.acked())

    async def test_two_replicas_only_the_leader_polls_and_the_standby_takes_over(
        self, provider: PolledProvider, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
    ) -> None:
        await ensure_topics(kafka_bootstrap)
        acked_labels = {"source": provider.source}
        ports = [free_port(), free_port()]
        async with (
            RawTail(kafka_bootstrap, provider.account, provider.event_ids) as raw,
            provider.serve() as url,
            httpx.AsyncClient(timeout=2) as http,
        ):
            replicas = []
            for port, name in zip(ports, ("a", "b"), strict=True):
                (tmp_path / name).mkdir()
                env = service_env(provider, url, kafka_bootstrap, pg_dsn, HEALTH_PORT=str(port))
                replicas.append(ServiceUnderTest(provider.service, env, tmp_path / name))
            for replica in replicas:
                replica.start()
            try:

                async def leaders() -> list[int]:
                    flags = [await _metric(http, port, "regpipe_leader", provider.lease_labels) for port in ports]
                    return [index for index, flag in enumerate(flags) if flag == 1]

                async def acked_by(port: int) -> float:
                    return await _metric(http, port, "regpipe_poll_acked_total", acked_labels)

                async def one_leader_and_both_ready() -> bool:
                    # The standby is ready too: it knows it is not the leader. Each replica is asked until its
                    # server listens, never once too early.
                    return len(await leaders()) == 1 and all([await _ready(http, port) for port in ports])

                await until(one_leader_and_both_ready, *replicas)
                (leader,) = await leaders()
                standby = 1 - leader
                first = provider.generate(12)
                await until(lambda: not provider.pending(), *replicas)
                # The provider sees an ACK before the poller counts it: wait for the count, do not sample it.
                await until(lambda: _equals(acked_by(ports[leader]), 12), *replicas)
                assert await leaders() == [leader]
                assert await acked_by(ports[standby]) == 0  # the standby never polled

                replicas[leader].kill()
                killed_at = time.monotonic()

                async def standby_leads() -> bool:
                    return await leaders() == [standby]

                await until(standby_leads, replicas[standby], timeout_s=30)
                takeover_s = time.monotonic() - killed_at
                later = provider.generate(5)
                await until(lambda: not provider.pending(), replicas[standby])
                await until(lambda: _equals(acked_by(ports[standby]), 5), replicas[standby])
            finally:
                codes = [replica.stop() for replica in replicas]
            await raw.wait_for_events([*first, *later])
        assert codes[standby] == 0, replicas[standby].log[-3000:]
        assert takeover_s < 15, f"the standby took {takeover_s:.1f} s to take over"
        _assert_acked_only_after_publishing(raw, provider.acked())

    async def test_each_published_event_is_logged_with_the_ingest_id_of_its_raw_record(
        self, provider: PolledProvider, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
    ) -> None:
        await ensure_topics(kafka_bootstrap)
        events = provider.generate(6)
        async with RawTail(kafka_bootstrap, provider.account, provider.event_ids) as raw, provider.serve() as url:
            service = ServiceUnderTest(provider.service, service_env(provider, url, kafka_bootstrap, pg_dsn), tmp_path)
            service.start()
            try:
                await until(lambda: not provider.pending(), service)
                await raw.wait_for_events(events)
            finally:
                exit_code = service.stop()
            await raw.drain()
        assert exit_code == 0, service.log[-3000:]
        # The id a log line names the event by until it has a canonical id is the one its raw record carries.
        on_kafka = {
            (r.headers.provider_event_id, str(r.headers.ingest_id), r.key, r.partition, r.offset) for r in raw.records
        }
        logged = {
            (line["provider_event_id"], line["ingest_id"], line["raw_key"], line["raw_partition"], line["raw_offset"])
            for line in service.log_lines("raw record published")
        }
        assert {event_id for event_id, *_ in on_kafka} == set(events)
        assert logged == on_kafka

    async def test_wrong_credentials_publish_nothing_are_not_retried_at_once_and_keep_the_service_running(
        self, provider: PolledProvider, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
    ) -> None:
        await ensure_topics(kafka_bootstrap)
        provider.generate(3)
        port = free_port()
        auth_errors = {"source": provider.source, "kind": "auth"}
        wrong, secret = provider.wrong_credentials()
        async with (
            RawTail(kafka_bootstrap, provider.account, provider.event_ids) as raw,
            provider.serve() as url,
            httpx.AsyncClient(timeout=2) as http,
        ):
            env = service_env(provider, url, kafka_bootstrap, pg_dsn, **wrong, HEALTH_PORT=str(port))
            service = ServiceUnderTest(provider.service, env, tmp_path)
            service.start()
            try:

                async def refused() -> bool:
                    return await _metric(http, port, "regpipe_poll_errors_total", auth_errors) >= 1

                await until(refused, service)
                await asyncio.sleep(1.0)  # a poller retrying at once (backoff 0.05 s) would have asked again
                assert await _metric(http, port, "regpipe_poll_errors_total", auth_errors) == 1
                assert service.returncode is None  # still running, waiting for someone to fix the credentials
            finally:
                exit_code = service.stop()
            await raw.drain()
        assert exit_code == 0, service.log[-3000:]
        assert raw.records == []
        assert provider.acked() == []
        assert secret not in service.log  # credentials are never logged
