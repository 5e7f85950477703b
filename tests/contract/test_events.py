"""The data-model registry: every canonical type has a model, models are frozen, secrets have no field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from regpipe.contract.cloudevents import from_kafka_record, to_kafka_record
from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events import (
    DATA_MODELS,
    DomainAuthInfoRetrieved,
    DomainCreated,
    DomainRegistered,
    EventData,
    OrderStatusChanged,
)
from regpipe.contract.taxonomy import EventType, Outcome, Source, Transport

_SECRET_WORDS = ("password", "secret", "auth_code", "authinfo", "auth_info_code", "totp", "token")


def _field_names(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        annotation = info.annotation
        for arg in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= _field_names(arg)
            for inner in getattr(arg, "__args__", ()):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    names |= _field_names(inner)
    return names


def test_every_event_type_has_a_data_model() -> None:
    assert set(DATA_MODELS) == set(EventType)


def test_models_are_distinct_frozen_event_data() -> None:
    assert len(set(DATA_MODELS.values())) == len(DATA_MODELS)
    for model in DATA_MODELS.values():
        assert issubclass(model, EventData)
        assert model.model_config.get("frozen") is True


@pytest.mark.parametrize("event_type", list(EventType), ids=str)
def test_no_model_has_a_field_for_a_secret(event_type: EventType) -> None:
    # `secret_withheld` / `credentials_withheld` are markers, not secrets.
    names = {n for n in _field_names(DATA_MODELS[event_type]) if not n.endswith("_withheld")}
    assert not [n for n in names if any(word in n.lower() for word in _SECRET_WORDS)]


def test_domain_is_normalised_to_idna_lower_case() -> None:
    assert DomainCreated(domain="Bücher.Example.").domain == "xn--bcher-kva.example"


def test_domain_event_needs_a_name_or_an_id() -> None:
    with pytest.raises(ValidationError):
        DomainCreated()
    assert DomainCreated(domain_id="dom_01h45ytscbebyvny4gc8cr8ma2").domain is None


def test_invalid_domain_is_rejected() -> None:
    with pytest.raises(ValidationError):
        DomainCreated(domain="not a domain ☃ name")


def test_open_status_values_accept_undocumented_values() -> None:
    event = OrderStatusChanged(order_id="1", order_status="brand_new_status")
    assert event.order_status == "brand_new_status"


def test_auth_info_retrieved_always_says_the_secret_was_withheld() -> None:
    assert DomainAuthInfoRetrieved(domain="example.com").secret_withheld is True
    with pytest.raises(ValidationError):
        DomainAuthInfoRetrieved(domain="example.com", secret_withheld=False)


def test_unknown_fields_are_refused_so_mappers_cannot_smuggle_them_in() -> None:
    with pytest.raises(ValidationError):
        DomainRegistered.model_validate({"domain": "example.com", "auth_code": "x"})


def test_pii_fields_are_marked_in_the_schema() -> None:
    schema = DomainRegistered.model_json_schema()
    assert schema["$defs"]["User"]["properties"]["email"]["x-pii"] is True


_MINIMAL = {
    "domain": "example.com",
    "order_id": "o-1",
    "batch_id": "b-1",
    "task_id": "t-1",
    "task_type": "domain.renew",
    "status": "COMPLETED",
    "operation": "registration",
}


@pytest.mark.parametrize("event_type", list(EventType), ids=str)
def test_every_model_round_trips_through_a_kafka_record(event_type: EventType) -> None:
    model = DATA_MODELS[event_type]
    data = model.model_validate({k: v for k, v in _MINIMAL.items() if k in model.model_fields})
    data = data.model_copy(update={"provider_fields": {"extra": [1, "two", {"three": None}]}})
    event = CanonicalEvent(
        id=uuid.uuid4(),
        source=Source.OPUSDNS,
        type=event_type,
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        partition_key="example.com",
        outcome=Outcome.NOTIFICATION,
        provider_event_type="X",
        transport=Transport.POLL,
        mapper_version="test/0",
        data=data,
    )
    record = to_kafka_record(event)
    assert from_kafka_record(record.value, record.headers) == event


def test_decimals_and_times_survive_the_round_trip_exactly() -> None:
    data = DomainRegistered(
        domain="example.com",
        price=Decimal("15.88"),
        registered_at=datetime(2024, 3, 8, 23, 59, 59, 123456, tzinfo=UTC),
    )
    assert DomainRegistered.model_validate_json(data.model_dump_json()) == data


def test_withholding_secrets_walks_any_depth_without_recursion() -> None:
    from regpipe.contract.events.base import withhold_secrets

    deep: dict[str, object] = {"kept": 1}
    for _ in range(5000):
        deep = {"next": [deep], "password": "hunter2"}

    cleaned, removed = withhold_secrets(deep)

    assert removed is True
    levels = 0
    while "next" in cleaned:
        assert "password" not in cleaned
        cleaned = cleaned["next"][0]
        levels += 1
    assert (levels, cleaned) == (5000, {"kept": 1})
    assert withhold_secrets({"a": [{"authInfo": "x", "b": 2}], "c": "d"}) == ({"a": [{"b": 2}], "c": "d"}, True)
