"""Least privilege on Kafka: one principal per service, allowed only its own topics, consumer groups and
transactional ids; rendered as Strimzi `KafkaTopic`/`KafkaUser` resources and as a script for other clusters.

The table below is the review surface: the internet-facing receiver (and every ingestor) may write
`registrar.raw.v1` and nothing else; only the deduplicator writes `registrar.events.v1` (the aggregator's outbox
relay publishes its aggregate events to `registrar.normalized.v1`, so they pass the deduplicator too). Topics
come from the registry (`regpipe.kafka.topics`), so a new topic is in the generated resources as soon as it is
registered; `tests/deploy` checks the committed files are current and that each principal's grants match the
topics and groups its service's settings name.

`python -m regpipe.kafka.access generate` writes `deploy/kafka/`; `... check` exits 1 when the files are stale.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

import typer
import yaml

from regpipe.kafka.topics import TOPICS, Topic

__all__ = ["DEFAULT_DIR", "PRINCIPALS", "Principal", "acl_script", "main", "strimzi_topics", "strimzi_users"]

DEFAULT_DIR: Final = Path("deploy/kafka")
_CLUSTER: Final = "regpipe"  # the Strimzi `Kafka` resource these belong to (label strimzi.io/cluster)
_REPLICAS: Final = 3
_MIN_INSYNC: Final = "2"  # with acks=all: a write survives the loss of one broker


@dataclass(frozen=True, slots=True)
class Principal:
    """One service's Kafka identity and everything it may do."""

    name: str
    reads: tuple[Topic, ...] = ()
    writes: tuple[Topic, ...] = ()
    groups: tuple[str, ...] = ()  # consumer groups (literal names)
    group_prefixes: tuple[str, ...] = ()  # consumer groups by prefix (teams, the replay tool)
    transactional_id_prefixes: tuple[str, ...] = ()
    describe_cluster: bool = False  # the replay tool lists groups and offsets
    # Watched, not consumed: Describe only, enough to read a group's committed offsets and a topic's end offsets.
    watches_topics: tuple[Topic, ...] = ()
    watches_groups: tuple[str, ...] = ()
    why: str = ""

    def acls(self) -> list[dict[str, Any]]:
        """The grants in Strimzi's `simple` authorization form."""
        acls: list[dict[str, Any]] = []
        for topic in self.reads:
            acls.append(_acl("topic", topic.value, "literal", ["Read", "Describe"]))
        for topic in self.writes:
            acls.append(_acl("topic", topic.value, "literal", ["Write", "Describe"]))
        for group in self.groups:
            acls.append(_acl("group", group, "literal", ["Read", "Describe"]))
        for prefix in self.group_prefixes:
            acls.append(_acl("group", prefix, "prefix", ["Read", "Describe", "Delete"]))
        for prefix in self.transactional_id_prefixes:
            acls.append(_acl("transactionalId", prefix, "prefix", ["Write", "Describe"]))
        for topic in self.watches_topics:
            acls.append(_acl("topic", topic.value, "literal", ["Describe"]))
        for group in self.watches_groups:
            acls.append(_acl("group", group, "literal", ["Describe"]))
        if self.describe_cluster:
            acls.append({"resource": {"type": "cluster"}, "operations": ["Describe"], "host": "*"})
        return acls


def _acl(kind: str, name: str, pattern: str, operations: list[str]) -> dict[str, Any]:
    return {"resource": {"type": kind, "name": name, "patternType": pattern}, "operations": operations, "host": "*"}


_INGESTOR_WHY: Final = "publishes provider bytes to the raw topic and nothing else"

PRINCIPALS: Final[tuple[Principal, ...]] = (
    Principal("regpipe-webhook-receiver", writes=(Topic.RAW,), why="internet-facing: " + _INGESTOR_WHY),
    Principal("regpipe-opensrs-poller", writes=(Topic.RAW,), why=_INGESTOR_WHY),
    Principal("regpipe-opusdns-poller", writes=(Topic.RAW,), why=_INGESTOR_WHY),
    Principal("regpipe-imap-parser", writes=(Topic.RAW,), why=_INGESTOR_WHY),
    Principal(
        "regpipe-normalizer",
        reads=(Topic.RAW,),
        writes=(Topic.NORMALIZED, Topic.QUARANTINE),
        groups=("regpipe-normalizer",),
        why="maps raw records; the only reader of the raw topic among the services",
    ),
    Principal(
        "regpipe-deduplicator",
        reads=(Topic.NORMALIZED, Topic.DEDUP_STATE),
        writes=(Topic.EVENTS, Topic.DEDUP_STATE, Topic.QUARANTINE),
        groups=("regpipe-deduplicator",),
        transactional_id_prefixes=("regpipe-deduplicator",),
        why="publishes the public topic in transactions, with its state changelog",
    ),
    Principal(
        "regpipe-aggregator",
        reads=(Topic.EVENTS,),
        writes=(Topic.NORMALIZED,),
        groups=("regpipe-aggregator",),
        why="reads the public topic; its outbox relay hands aggregate events to the deduplicator (normalized topic)",
    ),
    Principal(
        "regpipe-delivery",
        reads=(Topic.EVENTS,),
        writes=(Topic.DELIVERY_DLQ,),
        groups=("regpipe-delivery",),
        why="delivers public events to subscribers; dead letters to its DLQ",
    ),
    Principal(
        "regpipe-console",
        reads=(Topic.QUARANTINE,),
        watches_topics=(Topic.RAW, Topic.NORMALIZED, Topic.EVENTS),
        watches_groups=("regpipe-normalizer", "regpipe-deduplicator", "regpipe-aggregator", "regpipe-delivery"),
        why="the operator console shows the latest quarantined records (no group: it commits nothing) and the "
        "stages' consumer lag (Describe only on their groups and input topics)",
    ),
    Principal(
        "regpipe-autoscaler",
        watches_topics=(Topic.RAW, Topic.NORMALIZED, Topic.EVENTS),
        watches_groups=("regpipe-normalizer", "regpipe-deduplicator", "regpipe-aggregator", "regpipe-delivery"),
        why="the lag autoscalers (KEDA's TriggerAuthentication in deploy/k8s): committed and end offsets, nothing else",
    ),
    Principal(
        "regpipe-replay",
        reads=(Topic.RAW, Topic.QUARANTINE, Topic.NORMALIZED, Topic.EVENTS),
        writes=(Topic.NORMALIZED, Topic.QUARANTINE),
        group_prefixes=("regpipe-",),
        describe_cluster=True,
        why="the operators' replay tool: re-normalizes raw ranges, redrives quarantine, resets the stages' groups",
    ),
    Principal(
        "team-example",
        reads=(Topic.EVENTS,),
        group_prefixes=("team-example-",),
        why="template for a consuming team (docs/consumers.md): the public topic and its own groups, nothing else",
    ),
)


def strimzi_topics() -> list[dict[str, Any]]:
    """A `KafkaTopic` per registered topic, for production: 3 replicas, `min.insync.replicas=2`."""
    resources = []
    for topic, spec in TOPICS.items():
        resources.append(
            {
                "apiVersion": "kafka.strimzi.io/v1beta2",
                "kind": "KafkaTopic",
                "metadata": {"name": topic.value, "labels": {"strimzi.io/cluster": _CLUSTER}},
                "spec": {
                    "topicName": topic.value,
                    "partitions": spec.partitions,
                    "replicas": _REPLICAS,
                    "config": {**spec.config(), "min.insync.replicas": _MIN_INSYNC},
                },
            }
        )
    return resources


def strimzi_users() -> list[dict[str, Any]]:
    """A `KafkaUser` per principal: SCRAM-SHA-512 credentials (Strimzi puts them in a Secret of the same name)."""
    return [
        {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "KafkaUser",
            "metadata": {
                "name": principal.name,
                "labels": {"strimzi.io/cluster": _CLUSTER},
                "annotations": {"regpipe/why": principal.why},
            },
            "spec": {
                "authentication": {"type": "scram-sha-512"},
                "authorization": {"type": "simple", "acls": principal.acls()},
            },
        }
        for principal in PRINCIPALS
    ]


def _kafka_acls_lines(principal: Principal) -> list[str]:
    lines: list[str] = []
    for acl in principal.acls():
        resource = acl["resource"]
        if resource["type"] == "cluster":
            target = "--cluster"
        else:
            option = {"topic": "--topic", "group": "--group", "transactionalId": "--transactional-id"}[resource["type"]]
            target = f"{option} {shlex.quote(resource['name'])} --resource-pattern-type {resource['patternType']}"
        operations = " ".join(f"--operation {operation}" for operation in acl["operations"])
        lines.append(f'acls --add --allow-principal "User:{principal.name}" {operations} {target}')
    return lines


def acl_script() -> str:
    """A bash script that creates the same SCRAM users and ACLs on a cluster without Strimzi."""
    lines = [
        "#!/usr/bin/env bash",
        "# Generated by `python -m regpipe.kafka.access generate` from libs/regpipe/kafka/access.py; do not edit.",
        "# The Kafka users and ACLs of deploy/kafka/users.yaml for a cluster without Strimzi (SCRAM-SHA-512 and",
        "# StandardAuthorizer enabled). Topics: `regpipe-topics ensure`.",
        "#",
        "# Usage: BOOTSTRAP=host:9092 ADMIN_CONFIG=admin.properties deploy/kafka/acls.sh",
        "#   with one password per user in the environment: REGPIPE_WEBHOOK_RECEIVER_PASSWORD=... (the user name in",
        "#   upper case, dashes as underscores, _PASSWORD); Kafka's bin/ directory on PATH.",
        "set -euo pipefail",
        ': "${BOOTSTRAP:?set BOOTSTRAP to the brokers}" "${ADMIN_CONFIG:?set ADMIN_CONFIG to admin client properties}"',
        "",
        'acls() { kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_CONFIG" "$@"; }',
        "scram_user() {",
        '    local user="$1" variable="$2"',
        '    local password="${!variable:?set $variable}"',
        '    kafka-configs.sh --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_CONFIG" --alter \\',
        '        --entity-type users --entity-name "$user" --add-config "SCRAM-SHA-512=[password=$password]"',
        "}",
    ]
    for principal in PRINCIPALS:
        variable = principal.name.upper().replace("-", "_") + "_PASSWORD"
        lines += ["", f"# {principal.name}: {principal.why}", f"scram_user {principal.name} {variable}"]
        lines += _kafka_acls_lines(principal)
    return "\n".join(lines) + "\n"


def _yaml_documents(header: str, documents: list[dict[str, Any]]) -> str:
    return header + "".join("---\n" + yaml.safe_dump(doc, sort_keys=False, width=120) for doc in documents)


def render() -> dict[str, str]:
    """File name -> content of everything in `deploy/kafka/`."""
    header = "# Generated by `python -m regpipe.kafka.access generate` from the code; do not edit by hand.\n"
    return {
        "topics.yaml": _yaml_documents(header, strimzi_topics()),
        "users.yaml": _yaml_documents(header, strimzi_users()),
        "acls.sh": acl_script(),
    }


_app = typer.Typer(add_completion=False, help="Generate or check the Kafka topic, user and ACL resources.")


@_app.command("generate")
def _generate(directory: Annotated[Path, typer.Option("--dir", help="Output folder.")] = DEFAULT_DIR) -> None:
    """Write deploy/kafka/."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in render().items():
        path = directory / name
        path.write_text(content)
        if name.endswith(".sh"):
            path.chmod(0o755)
        typer.echo(f"wrote {path}")


@_app.command("check")
def _check(directory: Annotated[Path, typer.Option("--dir", help="Output folder.")] = DEFAULT_DIR) -> None:
    """Exit 1 when a committed file differs from what the code generates."""
    stale = [
        name
        for name, content in render().items()
        if not (directory / name).exists() or (directory / name).read_text() != content
    ]
    if stale:
        typer.echo(f"stale: {', '.join(stale)} in {directory} (run: python -m regpipe.kafka.access generate)", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"{directory} up to date")


def main() -> None:
    """Command-line entry point."""
    _app()


if __name__ == "__main__":
    main()
