"""Kafka plumbing shared by every stage: the topic registry, topic bootstrap, and the producer factory."""

from regpipe.kafka.admin import TopicReport, ensure_topics
from regpipe.kafka.errors import KafkaPlumbingError, PublishError, TopicDriftError
from regpipe.kafka.producer import create_producer
from regpipe.kafka.topics import TOPICS, Topic, TopicSpec

__all__ = [
    "TOPICS",
    "KafkaPlumbingError",
    "PublishError",
    "Topic",
    "TopicDriftError",
    "TopicReport",
    "TopicSpec",
    "create_producer",
    "ensure_topics",
]
