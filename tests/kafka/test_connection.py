"""One connection, every client alike: what a service's Kafka settings turn into, without a broker."""

from __future__ import annotations

import pytest
from faststream.security import SASLScram512
from pydantic import SecretStr, ValidationError

from regpipe.kafka.connection import KafkaConnection, KafkaLogin, kafka_connection
from regpipe.runtime.settings import KafkaSettings


def test_a_bare_string_is_bootstrap_servers_without_login() -> None:
    connection = kafka_connection("127.0.0.1:9092")
    assert connection.client_options() == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    assert connection.broker_security() is None


def test_a_login_becomes_sasl_options_for_aiokafka_and_faststream() -> None:
    connection = KafkaConnection("broker:9092", login=KafkaLogin("regpipe-normalizer", SecretStr("s3cret")))
    options = connection.client_options()
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert (options["sasl_mechanism"], options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "SCRAM-SHA-512",
        "regpipe-normalizer",
        "s3cret",
    )
    security = connection.broker_security()
    assert isinstance(security, SASLScram512)
    assert (security.username, security.password, security.use_ssl) == ("regpipe-normalizer", "s3cret", False)


def test_tls_with_a_login_is_sasl_ssl_with_a_verifying_context() -> None:
    connection = KafkaConnection("broker:9093", login=KafkaLogin("u", SecretStr("p")), tls=True)
    options = connection.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["ssl_context"].check_hostname is True
    security = connection.broker_security()
    assert security is not None
    assert security.use_ssl is True


def test_settings_build_the_connection_and_never_print_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "regpipe-delivery")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "do-not-print-me")
    settings = KafkaSettings()
    connection = settings.kafka_connection()
    assert connection.client_options()["sasl_plain_password"] == "do-not-print-me"
    assert "do-not-print-me" not in repr(settings)
    assert "do-not-print-me" not in repr(connection)


def test_half_a_login_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "regpipe-delivery")
    monkeypatch.delenv("KAFKA_SASL_PASSWORD", raising=False)
    with pytest.raises(ValidationError, match="set together"):
        KafkaSettings()
