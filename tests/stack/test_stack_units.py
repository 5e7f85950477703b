"""Pure parts of the stack: cluster ids, free ports, the endpoints file format."""

from __future__ import annotations

import base64

from regpipe.stack.kafka import new_cluster_id
from regpipe.stack.ports import free_ports, port_is_free
from regpipe.stack.stack import ImapEndpoint, StackEndpoints


def test_cluster_ids_are_16_random_bytes_in_unpadded_urlsafe_base64() -> None:
    ids = {new_cluster_id() for _ in range(200)}

    assert len(ids) == 200
    for cluster_id in ids:
        assert not cluster_id.startswith("-")
        assert "=" not in cluster_id
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(5)

    assert len(set(ports)) == 5
    assert all(port_is_free(port) for port in ports)


def test_endpoints_round_trip_through_json_and_map_to_environment() -> None:
    endpoints = StackEndpoints(
        kafka_bootstrap_servers="127.0.0.1:9092",
        postgres_dsn="postgresql://regpipe@127.0.0.1:5432/regpipe",
        imap=ImapEndpoint("127.0.0.1", 1143, 1993, "/ca.pem", "events@example.test", "secret"),
        pid=1,
    )

    assert StackEndpoints.from_json(endpoints.to_json()) == endpoints
    assert endpoints.environment() == {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
        "POSTGRES_DSN": "postgresql://regpipe@127.0.0.1:5432/regpipe",
        "IMAP_HOST": "127.0.0.1",
        "IMAP_PORT": "1143",
        "IMAP_SSL_PORT": "1993",
        "IMAP_USERNAME": "events@example.test",
        "IMAP_PASSWORD": "secret",
        "IMAP_CA_FILE": "/ca.pem",
    }
