"""A real Apache Kafka broker (KRaft, broker + controller in one process) run from Maven Central jars.

Usage, sync: `with KafkaServer(data_dir) as kafka: ...`; async: `await kafka.astart()`.
`kill()` then `restart()` + `await wait_ready()` simulates a crash on the same data dir and ports.
A node can also be one of several (`KafkaCluster` in `regpipe.stack.kafka_cluster`), and can require
SASL/SCRAM logins with the KRaft ACL authorizer (`KafkaSecurity`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from regpipe.stack.errors import ServerStartError, StackError
from regpipe.stack.kafka_dist import fetch_kafka
from regpipe.stack.ports import free_ports, port_is_free
from regpipe.stack.server import LocalServer, log_tail

__all__ = ["ClusterMembership", "KafkaSecurity", "KafkaServer", "new_cluster_id"]

_STARTED_LINE = "Kafka Server started"
_PROBE_TOPIC = "regpipe-stack-ready-probe"
_TOPIC_ALREADY_EXISTS = 36
_STOP_GRACE_SECONDS = 30.0
_SCRAM = "SCRAM-SHA-512"  # as the production users are (deploy/kafka)


def new_cluster_id() -> str:
    """A KRaft cluster id: URL-safe base64 of 16 random bytes, unpadded, never starting with '-'.

    A leading '-' would be parsed as an option by the storage tool.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass(frozen=True, slots=True)
class ClusterMembership:
    """How one node fits into a cluster: its id, the controller quorum, the shared cluster id, replication."""

    node_id: int
    voters: str  # "1@127.0.0.1:<controller port>,2@..."
    cluster_id: str
    replication_factor: int
    min_insync_replicas: int


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """SASL/SCRAM-SHA-512 on the client listener and the KRaft ACL authorizer; `admin` is the super user.

    `users` maps each principal's name to its password (the admin included); they are created when the
    storage is formatted. The controller listener stays plaintext on loopback (its principal is a super user).
    """

    users: Mapping[str, str]
    admin: str = "admin"

    def client_options(self, user: str | None = None) -> dict[str, str]:
        """aiokafka keyword arguments for logging in as `user` (default: the admin)."""
        name = user or self.admin
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": _SCRAM,
            "sasl_plain_username": name,
            "sasl_plain_password": self.users[name],
        }


class KafkaServer(LocalServer):
    """One Kafka 4 broker process on free loopback ports, with all its files under `data_dir`.

    Layout of `data_dir`: `server.properties`, `log4j2.properties`, `ports.json` (so a later
    instance on the same folder keeps its ports when they are still free), `logs/server.log`
    (the broker's log4j log), `logs/stdout.log` (JVM output) and `kraft/` (the topic data).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        kafka_home: Path | None = None,
        heap: str = "512m",
        ready_timeout: float = 90.0,
        security: KafkaSecurity | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self._kafka_home = kafka_home
        self._heap = heap
        self._ready_timeout = ready_timeout
        self.security = security
        self.membership: ClusterMembership | None = None  # None: a cluster of this node alone
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self.port, self.controller_port = self._choose_ports()

    @property
    def bootstrap_servers(self) -> str:
        """`127.0.0.1:<port>`, for `bootstrap_servers=` of any Kafka client."""
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """The broker's own log (log4j)."""
        return self.data_dir / "logs" / "server.log"

    @property
    def stdout_file(self) -> Path:
        """The JVM's stdout and stderr (crashes before logging starts end up here)."""
        return self.data_dir / "logs" / "stdout.log"

    @property
    def node_id(self) -> int:
        """This node's id in its cluster."""
        return self.membership.node_id if self.membership else 1

    def client_options(self) -> dict[str, Any]:
        """aiokafka keyword arguments an admin client needs for this broker (bootstrap and, if any, login)."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers}
        if self.security is not None:
            options.update(self.security.client_options())
        return options

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Fetch the jars if needed, format storage on first use, and launch the broker.

        Returns once the JVM is launched; `await wait_ready()` (or use `start_and_wait()`).
        """
        if self.running:
            raise StackError(f"Kafka is already running on {self.bootstrap_servers}")
        home = self._kafka_home or fetch_kafka()
        java = shutil.which("java")
        if java is None:
            raise ServerStartError("`java` is not on PATH: run scripts/bootstrap.sh to install a JRE 17+")
        self._write_config()
        if not (self.data_dir / "kraft" / "meta.properties").exists():
            self._format_storage(java, home)
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with self.stdout_file.open("ab") as out:
            # A session of its own: Ctrl+C in a terminal reaches us, and we stop the broker cleanly.
            self._process = subprocess.Popen(
                [
                    java,
                    f"-Xmx{self._heap}",
                    "-Xms256m",
                    "-XX:+UseG1GC",
                    "-Djava.awt.headless=true",
                    f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                    "-cp",
                    f"{home / 'libs'}/*",
                    "kafka.Kafka",
                    str(self.data_dir / "server.properties"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
            )

    async def wait_ready(self) -> None:
        """Wait until the log says `Kafka Server started` and a produce round-trip succeeds."""
        deadline = time.monotonic() + self._ready_timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            if self._process is None:
                raise StackError("Kafka was not started: call start() first")
            if self._process.poll() is not None:
                raise self._start_error(f"the broker exited with code {self._process.returncode}")
            if self._log_says_started():
                try:
                    await asyncio.wait_for(self._probe(), timeout=max(1.0, deadline - time.monotonic()))
                except (KafkaError, OSError, TimeoutError) as error:
                    # Right after start the controller may still be electing itself: retry.
                    last_error = error
                else:
                    return
            await asyncio.sleep(0.25)
        raise self._start_error(f"not ready within the deadline (last probe error: {last_error!r})")

    def stop(self) -> None:
        """SIGTERM (the broker's shutdown hook closes the logs cleanly), SIGKILL after 30 s."""
        process = self._process
        if process is None or process.poll() is not None:
            self._process = None
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._process = None

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would; the data dir is kept for `restart()`."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self._process = None

    def restart(self) -> None:
        """Stop (if running) and launch again on the same data dir and ports; then `await wait_ready()`."""
        self.stop()
        self.start()

    def _choose_ports(self) -> tuple[int, int]:
        saved = self.data_dir / "ports.json"
        if saved.exists():
            ports = json.loads(saved.read_text())
            port, controller_port = int(ports["port"]), int(ports["controller_port"])
            if port_is_free(port) and port_is_free(controller_port):
                return port, controller_port
        port, controller_port = free_ports(2)
        return port, controller_port

    def _write_config(self) -> None:
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "ports.json").write_text(
            json.dumps({"port": self.port, "controller_port": self.controller_port})
        )
        node = self.membership or ClusterMembership(
            1, f"1@127.0.0.1:{self.controller_port}", "", replication_factor=1, min_insync_replicas=1
        )
        replicas, min_isr = str(node.replication_factor), str(node.min_insync_replicas)
        client = "SASL_PLAINTEXT" if self.security is not None else "PLAINTEXT"
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": node.voters,
            "listeners": f"{client}://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"{client}://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": client,
            "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,{client}:{client}",
            "log.dirs": str(self.data_dir / "kraft"),
            # Internal topics as replicated as the cluster allows (one node: one replica of everything).
            "offsets.topic.replication.factor": replicas,
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": min_isr,
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": min_isr,
            "default.replication.factor": replicas,
            "min.insync.replicas": min_isr,
            # Faster tests: no wait for more members, fewer internal partitions to create.
            "group.initial.rebalance.delay.ms": "0",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.num.partitions": "1",
            # Topics are declared by the project's topic registry, never created by a typo.
            "auto.create.topics.enable": "false",
            "num.partitions": "3",
            # After a SIGKILL the restarted broker may only register once the controller has
            # fenced its old session: a shorter session makes crash tests wait ~5 s, not ~10 s.
            "broker.heartbeat.interval.ms": "1000",
            "broker.session.timeout.ms": "5000",
        }
        if self.security is not None:
            admin = self.security.admin
            settings |= {
                "sasl.enabled.mechanisms": _SCRAM,
                "sasl.mechanism.inter.broker.protocol": _SCRAM,
                f"listener.name.sasl_plaintext.{_SCRAM.lower()}.sasl.jaas.config": (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f'username="{admin}" password="{self.security.users[admin]}";'
                ),
                "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                # The controller listener is plaintext on loopback: its (anonymous) peers are the nodes.
                "super.users": f"User:{admin};User:ANONYMOUS",
                "allow.everyone.if.no.acl.found": "false",
            }
        (self.data_dir / "server.properties").write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        (self.data_dir / "log4j2.properties").write_text(
            "status = warn\n"
            "appender.file.type = File\n"
            "appender.file.name = FILE\n"
            f"appender.file.fileName = {self.log_file}\n"
            "appender.file.layout.type = PatternLayout\n"
            "appender.file.layout.pattern = [%d] %p %m (%c)%n\n"
            "rootLogger.level = INFO\n"
            "rootLogger.appenderRefs = file\n"
            "rootLogger.appenderRef.file.ref = FILE\n"
        )

    def _format_storage(self, java: str, home: Path) -> None:
        command = [
            java,
            "-Xmx256m",
            # A short-lived tool: the quick JIT tier starts faster than full optimisation.
            "-XX:TieredStopAtLevel=1",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            "-cp",
            f"{home / 'libs'}/*",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            (self.membership.cluster_id if self.membership else "") or new_cluster_id(),
            "-c",
            str(self.data_dir / "server.properties"),
            "-g",
        ]
        for user, password in self.security.users.items() if self.security else ():
            command += ["--add-scram", f"{_SCRAM}=[name={user},password={password}]"]
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.data_dir)
        if result.returncode != 0:
            raise ServerStartError(
                f"formatting Kafka storage in {self.data_dir} failed (exit {result.returncode}):\n"
                + (result.stdout + result.stderr)[-4000:]
            )

    def _log_says_started(self) -> bool:
        try:
            with self.log_file.open("rb") as log:
                log.seek(self._log_offset)  # only this launch's lines count after a restart
                return _STARTED_LINE.encode() in log.read()
        except FileNotFoundError:
            return False

    async def _probe(self) -> None:
        topic = f"{_PROBE_TOPIC}-{self.node_id}"  # nodes of one cluster probe side by side
        replicas = self.membership.replication_factor if self.membership else 1
        admin = AIOKafkaAdminClient(**self.client_options(), request_timeout_ms=5000)
        await admin.start()
        try:
            response = await admin.create_topics([NewTopic(topic, 1, replicas)])
            for _name, code, *_rest in response.topic_errors:
                if code not in (0, _TOPIC_ALREADY_EXISTS):
                    raise KafkaError(f"creating the probe topic failed with error code {code}")
            producer = AIOKafkaProducer(**self.client_options(), acks="all", request_timeout_ms=5000)
            await producer.start()
            try:
                await producer.send_and_wait(topic, b"ready")
            finally:
                await producer.stop()
            # The probe topic was only a means: leave the cluster as empty as it was.
            await admin.delete_topics([topic])
        finally:
            await admin.close()

    def _start_error(self, reason: str) -> ServerStartError:
        return ServerStartError(
            f"Kafka on {self.bootstrap_servers} (data dir {self.data_dir}): {reason}\n"
            f"--- {self.log_file.name} (tail) ---\n{log_tail(self.log_file)}\n"
            f"--- {self.stdout_file.name} (tail) ---\n{log_tail(self.stdout_file, 20)}"
        )
