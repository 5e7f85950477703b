"""Several Kafka nodes as one KRaft cluster (each broker + controller), as production runs Kafka.

A single local broker never exercises leader elections, `min.insync.replicas` or transaction coordinators
moving; this cluster does: replication factor 3 and `min.insync.replicas=2` by default.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from regpipe.stack.errors import StackError
from regpipe.stack.kafka import ClusterMembership, KafkaSecurity, KafkaServer, new_cluster_id

__all__ = ["KafkaCluster"]


class KafkaCluster:
    """`size` nodes under `data_dir/node-<id>`, started together; `kill(node_id)` / `restart(node_id)` one."""

    def __init__(
        self,
        data_dir: Path,
        *,
        size: int = 3,
        min_insync_replicas: int = 2,
        heap: str = "384m",
        security: KafkaSecurity | None = None,
    ) -> None:
        if size < 1 or not 1 <= min_insync_replicas <= size:
            raise StackError(f"a cluster of {size} cannot require {min_insync_replicas} in-sync replicas")
        self.nodes = {
            node_id: KafkaServer(data_dir / f"node-{node_id}", heap=heap, security=security)
            for node_id in range(1, size + 1)
        }
        voters = ",".join(f"{node_id}@127.0.0.1:{node.controller_port}" for node_id, node in self.nodes.items())
        cluster_id = new_cluster_id()
        for node_id, node in self.nodes.items():
            node.membership = ClusterMembership(node_id, voters, cluster_id, size, min_insync_replicas)

    @property
    def bootstrap_servers(self) -> str:
        """Every node's client address."""
        return ",".join(node.bootstrap_servers for node in self.nodes.values())

    async def astart(self) -> None:
        """Launch every node and wait until each answers a produce round trip (stops all on failure)."""
        try:
            for node in self.nodes.values():
                await asyncio.to_thread(node.start)
            await asyncio.gather(*(node.wait_ready() for node in self.nodes.values()))
        except BaseException:
            await self.astop()
            raise

    async def astop(self) -> None:
        """Stop every node (SIGTERM, SIGKILL after a grace period)."""
        await asyncio.gather(*(asyncio.to_thread(node.stop) for node in self.nodes.values()))

    def kill(self, node_id: int) -> None:
        """SIGKILL one node, as a crash would."""
        self.nodes[node_id].kill()

    async def restart(self, node_id: int) -> None:
        """Launch a killed or stopped node again on its data dir and ports, and wait until it is ready."""
        node = self.nodes[node_id]
        await asyncio.to_thread(node.restart)
        await node.wait_ready()

    async def partition_leaders(self, topics: list[str]) -> dict[int, int]:
        """How many partitions of `topics` each node leads now."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            counts = dict.fromkeys(self.nodes, 0)
            for description in await admin.describe_topics(topics):
                for partition in description["partitions"]:
                    leader = int(partition["leader"])
                    if leader in counts:
                        counts[leader] += 1
            return counts
        finally:
            await admin.close()
