"""Subscription filters: exact types, `prefix.*`, sources, domain suffixes; unknown syntax refused."""

from __future__ import annotations

import pytest

from regpipe.delivery.errors import InvalidSubscriptionError
from regpipe.delivery.filters import EventFilter


def test_empty_filter_matches_everything() -> None:
    assert EventFilter.parse().matches("order.status_changed", "opensrs", None)


def test_exact_types_and_prefixes() -> None:
    f = EventFilter.parse(["domain.*", "order.status_changed"])
    assert f.matches("domain.registered", "most", "a.com")
    assert f.matches("domain.transfer.status_changed", "most", "a.com")
    assert f.matches("order.status_changed", "most", None)
    assert not f.matches("order_batch.completed", "most", None)
    assert not f.matches("mailbox.created", "coldmail", "a.com")


def test_nested_prefix() -> None:
    f = EventFilter.parse(["domain.transfer.*"])
    assert f.matches("domain.transfer.status_changed", "opusdns", "a.de")
    assert not f.matches("domain.registered", "opusdns", "a.de")


def test_star_means_any_type() -> None:
    assert EventFilter.parse(["*"], sources=["most"]).matches("account.message", "most", None)


def test_source_filter() -> None:
    f = EventFilter.parse(sources=["opensrs", "opusdns"])
    assert f.matches("domain.expired", "opensrs", "x.com")
    assert not f.matches("domain.expired", "most", "x.com")


def test_domain_suffix_filter_matches_whole_labels() -> None:
    f = EventFilter.parse(domain_suffixes=[".DE", "example.com"])
    assert f.matches("domain.expired", "most", "shop.de")
    assert f.matches("domain.expired", "most", "example.com")
    assert f.matches("domain.expired", "most", "www.example.com")
    assert not f.matches("domain.expired", "most", "myexample.com")
    assert not f.matches("domain.expired", "most", "shop.dev")
    assert not f.matches("order.status_changed", "most", None)  # no subject: a suffix filter cannot match


@pytest.mark.parametrize(
    ("types", "sources", "field"),
    [
        (["domain.registerd"], [], "event_types"),  # typo of an exact type
        (["domain*"], [], "event_types"),
        (["domain.**"], [], "event_types"),
        (["*.registered"], [], "event_types"),
        (["nothing.*"], [], "event_types"),  # a prefix that matches no type
        ([], ["godaddy"], "sources"),
    ],
)
def test_unknown_syntax_is_refused(types: list[str], sources: list[str], field: str) -> None:
    with pytest.raises(InvalidSubscriptionError) as caught:
        EventFilter.parse(types, sources)
    assert caught.value.field == field
