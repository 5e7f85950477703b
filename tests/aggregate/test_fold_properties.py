"""Property tests of the pure fold: any interleaving and duplication of a domain's or a batch's events (distinct
provider times) yields the same final state."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from regpipe.aggregate.fold import ReadModel, fold
from regpipe.contract import CanonicalEvent, EventType, Outcome, Source
from tests.aggregate.events import batch_event, domain_event, event, order_event

_DOMAIN = "example.com"


def _domain_pool() -> list[CanonicalEvent]:
    """Events of one domain across its lifecycle, from every kind of state change, at distinct times."""
    s = Source.OPENSRS
    return [
        domain_event("d1", s, EventType.DOMAIN_CREATED, _DOMAIN, minute=1, expires_at="2027-01-01T00:00:00Z"),
        domain_event("d2", s, EventType.DOMAIN_REGISTERED, _DOMAIN, minute=2, expires_at="2027-01-01T00:00:00Z"),
        domain_event("d3", s, EventType.DOMAIN_NAMESERVERS_UPDATED, _DOMAIN, minute=3, nameservers=["a.ns", "b.ns"]),
        domain_event("d4", s, EventType.DOMAIN_NAMESERVERS_UPDATED, _DOMAIN, minute=4, nameservers=["c.ns"]),
        domain_event(
            "d5",
            s,
            EventType.DOMAIN_VERIFICATION_STATUS_CHANGED,
            _DOMAIN,
            minute=5,
            outcome=Outcome.NOTIFICATION,
            verification_status="pending",
        ),
        domain_event(
            "d6", s, EventType.DOMAIN_VERIFICATION_STATUS_CHANGED, _DOMAIN, minute=6, verification_status="verified"
        ),
        domain_event("d7", s, EventType.DOMAIN_RENEWED, _DOMAIN, minute=7, expires_at="2028-01-01T00:00:00Z"),
        domain_event("d8", s, EventType.DOMAIN_EXPIRED, _DOMAIN, minute=8, expires_at="2028-01-01T00:00:00Z"),
        domain_event(
            "d9",
            s,
            EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
            _DOMAIN,
            minute=9,
            outcome=Outcome.NOTIFICATION,
            transfer_id="t1",
            transfer_status="pending_owner",
        ),
        domain_event(
            "d10",
            s,
            EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
            _DOMAIN,
            minute=10,
            transfer_id="t1",
            transfer_status="completed",
        ),
        domain_event(
            "d11",
            s,
            EventType.DOMAIN_REGISTRANT_CHANGE_STATUS_CHANGED,
            _DOMAIN,
            minute=11,
            outcome=Outcome.NOTIFICATION,
            status="pending",
        ),
        domain_event("d12", s, EventType.DOMAIN_DELETED, _DOMAIN, minute=12, reason="expired"),
        event(
            "d13",
            s,
            EventType.ORDER_STATUS_CHANGED,
            minute=13,
            subject=_DOMAIN,
            outcome=Outcome.NOTIFICATION,
            data={"order_id": "o1", "domain": _DOMAIN, "order_status": "pending"},
        ),
        event(
            "d14",
            s,
            EventType.ORDER_STATUS_CHANGED,
            minute=14,
            subject=_DOMAIN,
            data={"order_id": "o1", "domain": _DOMAIN, "order_status": "completed"},
        ),
    ]


def _batch_pool() -> list[CanonicalEvent]:
    """A Most batch: stage-1 and stage-2 batch events and per-order events, some contradicting each other."""
    orders1 = [("o1", "a.com", "REGISTERED"), ("o2", "b.com", "SETTING_NS"), ("o3", "c.com", "FAILED")]
    orders2 = [("o1", "a.com", "COMPLETED"), ("o2", "b.com", "COMPLETED"), ("o3", "c.com", "FAILED")]
    return [
        batch_event("b1", EventType.ORDER_BATCH_REGISTERED, "B1", orders1, minute=10),
        batch_event("b2", EventType.ORDER_BATCH_COMPLETED, "B1", orders2, minute=20),
        order_event("b3", "B1", "o1", "a.com", "REGISTERED", minute=9),
        order_event("b4", "B1", "o2", "b.com", "SETTING_NS", minute=11),
        order_event("b5", "B1", "o2", "b.com", "COMPLETED", minute=19),
        order_event("b6", "B1", "o4", "d.com", "REGISTERED", minute=12),
        # an older event that says less than the state already knows
        order_event("b7", "B1", "o1", "a.com", "SETTING_NS", minute=25),
        event(
            "b8",
            Source.MOST,
            EventType.TASK_COMPLETED,
            minute=5,
            key="T1",
            data={
                "task_id": "T1",
                "task_type": "domain.renew",
                "status": "PARTIAL",
                "items": [{"domain": "a.com", "ok": True}, {"domain": "b.com", "ok": False}],
            },
        ),
        event(
            "b9",
            Source.MOST,
            EventType.TASK_COMPLETED,
            minute=6,
            key="T1",
            data={"task_id": "T1", "task_type": "domain.renew", "status": "COMPLETED"},
        ),
    ]


def _coldmail_pool() -> list[CanonicalEvent]:
    s = Source.COLDMAIL
    return [
        domain_event("c1", s, EventType.DOMAIN_REGISTERED, "x.com", minute=1, order_id="CM1"),
        domain_event(
            "c2", s, EventType.DOMAIN_REGISTRATION_FAILED, "y.com", minute=2, order_id="CM1", outcome=Outcome.FAILURE
        ),
        domain_event("c3", s, EventType.MAILBOX_ORDER_SUCCEEDED, "x.com", minute=3, order_id="CM1"),
        domain_event("c4", s, EventType.DOMAIN_REGISTERED, "y.com", minute=4, order_id="CM1"),
    ]


def _canonical(model: ReadModel) -> tuple[object, ...]:
    return (model.domains, model.batches, model.tasks, model.coldmail_orders, model.operations, model.timeline)


def _shuffled_with_duplicates(pool: list[CanonicalEvent]) -> st.SearchStrategy[list[CanonicalEvent]]:
    return st.tuples(st.permutations(pool), st.lists(st.sampled_from(pool), max_size=len(pool) * 2)).flatmap(
        lambda parts: st.permutations([*parts[0], *parts[1]])
    )


@settings(max_examples=150, deadline=None)
@given(_shuffled_with_duplicates(_domain_pool()))
def test_domain_state_is_independent_of_delivery_order_and_duplicates(events: list[CanonicalEvent]) -> None:
    assert _canonical(fold(events)) == _canonical(fold(_domain_pool()))


@settings(max_examples=150, deadline=None)
@given(_shuffled_with_duplicates(_batch_pool()))
def test_batch_and_task_state_is_independent_of_delivery_order_and_duplicates(events: list[CanonicalEvent]) -> None:
    assert _canonical(fold(events)) == _canonical(fold(_batch_pool()))


@settings(max_examples=100, deadline=None)
@given(_shuffled_with_duplicates(_coldmail_pool()))
def test_coldmail_order_state_is_independent_of_delivery_order_and_duplicates(events: list[CanonicalEvent]) -> None:
    assert _canonical(fold(events)) == _canonical(fold(_coldmail_pool()))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(_domain_pool()), min_size=1))
def test_any_subset_folds_to_the_state_of_its_newest_writers(events: list[CanonicalEvent]) -> None:
    """Whatever subset arrived, the last event (by provider time) is the one the state names."""
    state = next(iter(fold(events).domains.values()))
    newest = max(events, key=lambda e: (e.time, str(e.id)))
    assert state.last_event is not None
    assert state.last_event.at.event_id == str(newest.id)
