"""Kafka least privilege: the generated Strimzi resources and ACL script are current, the public topic and the
raw topic are written only by whom the design says, and every service's principal is granted exactly the topics,
consumer groups and transactional ids its settings name (a new setting without a grant fails here)."""

from __future__ import annotations

import importlib
import inspect
import subprocess
from pathlib import Path

from pydantic_settings import BaseSettings

from regpipe.kafka.access import DEFAULT_DIR, PRINCIPALS, Principal, render, strimzi_topics, strimzi_users
from regpipe.kafka.topics import TOPICS, Topic

_ROOT = Path(__file__).resolve().parents[2]
_SERVICES = _ROOT / "services" / "regpipe" / "services"
_READ_SUFFIXES = ("_input_topic",)
_WRITE_SUFFIXES = ("_output_topic", "_quarantine_topic", "_changelog_topic", "_outbox_topic", "_dlq_topic")


def _principal(name: str) -> Principal:
    return next(p for p in PRINCIPALS if p.name == name)


def _settings(service: str) -> type[BaseSettings]:
    module = importlib.import_module(f"regpipe.services.{service}.settings")
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseSettings) and obj.__module__ == module.__name__
    ]
    assert len(classes) == 1
    return classes[0]


def test_committed_files_are_current() -> None:
    for name, content in render().items():
        assert (_ROOT / DEFAULT_DIR / name).read_text() == content, "run: python -m regpipe.kafka.access generate"


def test_acl_script_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(_ROOT / DEFAULT_DIR / "acls.sh")], check=True)


def test_every_registered_topic_has_a_production_kafka_topic() -> None:
    topics = {resource["spec"]["topicName"]: resource["spec"] for resource in strimzi_topics()}
    assert set(topics) == {topic.value for topic in TOPICS}
    for topic, spec in TOPICS.items():
        assert topics[topic.value]["partitions"] == spec.partitions
        assert topics[topic.value]["replicas"] == 3
        assert topics[topic.value]["config"]["min.insync.replicas"] == "2"


def test_the_receiver_writes_the_raw_topic_and_nothing_else() -> None:
    receiver = _principal("regpipe-webhook-receiver")
    assert receiver.acls() == [
        {
            "resource": {"type": "topic", "name": Topic.RAW.value, "patternType": "literal"},
            "operations": ["Write", "Describe"],
            "host": "*",
        }
    ]


def test_only_the_deduplicator_writes_the_public_topic() -> None:
    # The aggregator's relay writes its aggregate events to the normalized topic: they pass the deduplicator too.
    writers = {p.name for p in PRINCIPALS if Topic.EVENTS in p.writes}
    assert writers == {"regpipe-deduplicator"}
    raw_readers = {p.name for p in PRINCIPALS if Topic.RAW in p.reads}
    assert raw_readers == {"regpipe-normalizer", "regpipe-replay"}


def test_every_service_principal_matches_its_settings() -> None:
    services = sorted(p.name for p in _SERVICES.iterdir() if (p / "settings.py").exists())
    assert len(services) >= 6
    for service in services:
        principal = _principal("regpipe-" + service.replace("_", "-"))
        defaults = {name: f.default for name, f in _settings(service).model_fields.items()}
        reads = {v for k, v in defaults.items() if k.endswith(_READ_SUFFIXES)}
        writes = {v for k, v in defaults.items() if k.endswith(_WRITE_SUFFIXES)}
        groups = {v for k, v in defaults.items() if k.endswith("_group_id")}
        transactional = {v for k, v in defaults.items() if k.endswith("_transactional_id_prefix")}
        if not reads | writes:  # an ingestor: the raw publisher writes the raw topic
            writes = {Topic.RAW.value}
        assert reads <= {t.value for t in principal.reads}, (service, reads)
        assert writes == {t.value for t in principal.writes}, (service, writes)
        assert groups == set(principal.groups), (service, groups)
        assert transactional == set(principal.transactional_id_prefixes), (service, transactional)


def test_every_user_authenticates_and_is_authorized() -> None:
    users = strimzi_users()
    assert len(users) == len(PRINCIPALS)
    for user in users:
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert user["spec"]["authorization"]["acls"], user["metadata"]["name"]
        for acl in user["spec"]["authorization"]["acls"]:
            assert acl["resource"].get("name") != "*", "no wildcard grants"
