"""Create missing topics and report drift of existing ones against the registry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from regpipe.kafka.topics import TOPICS, TopicSpec

__all__ = ["TopicReport", "ensure_topics"]


@dataclass
class TopicReport:
    """What `ensure_topics` did and found."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drift: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every topic now exists as the registry describes it."""
        return not self.drift


async def ensure_topics(
    bootstrap_servers: str, specs: Iterable[TopicSpec] = TOPICS.values(), *, replication_factor: int = 1
) -> TopicReport:
    """Create the topics that are missing; compare partitions and configs of those that exist."""
    wanted = list(specs)
    report = TopicReport()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="regpipe-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in wanted if spec.name.value not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        name=spec.name.value,
                        num_partitions=spec.partitions,
                        replication_factor=replication_factor,
                        topic_configs=spec.config(),
                    )
                    for spec in missing
                ]
            )
            report.created.extend(spec.name.value for spec in missing)
        present = [spec for spec in wanted if spec.name.value in existing]
        if present:
            descriptions = await admin.describe_topics([spec.name.value for spec in present])
            partitions = {d["topic"]: len(d["partitions"]) for d in descriptions}
            configs = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, spec.name.value) for spec in present]
            )
            actual: dict[str, dict[str, str]] = {}
            for response in configs:
                for resource in response.resources:
                    name = resource[3]
                    actual[name] = {entry[0]: entry[1] for entry in resource[4]}
            for spec in present:
                problems: list[str] = []
                name = spec.name.value
                if partitions.get(name) != spec.partitions:
                    problems.append(f"partitions: want {spec.partitions}, have {partitions.get(name)}")
                for key, value in spec.config().items():
                    have = actual.get(name, {}).get(key)
                    if have != value:
                        problems.append(f"{key}: want {value}, have {have}")
                if problems:
                    report.drift[name] = problems
                else:
                    report.unchanged.append(name)
    finally:
        await admin.close()
    return report
