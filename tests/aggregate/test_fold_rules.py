"""The fold's rules on concrete histories: what each aggregate ends up saying."""

from __future__ import annotations

from datetime import UTC, datetime

from regpipe.aggregate.fold import BatchKey, DomainKey, OperationKey, OperationKind, TaskKey, fold
from regpipe.contract import EventType, Outcome, Source, Transport
from tests.aggregate.events import batch_event, domain_event, event, order_event


def test_an_older_event_joins_the_timeline_but_does_not_roll_the_state_back() -> None:
    renewed = domain_event(
        "r", Source.OPUSDNS, EventType.DOMAIN_RENEWED, "a.com", minute=10, expires_at="2028-01-01T00:00:00Z"
    )
    late_registration = domain_event(
        "g", Source.OPUSDNS, EventType.DOMAIN_REGISTERED, "a.com", minute=1, expires_at="2027-01-01T00:00:00Z"
    )
    model = fold([renewed, late_registration])
    state = model.domains[DomainKey(provider="opusdns", name="a.com")]
    assert state.status == "active"
    assert state.expires_at is not None
    assert state.expires_at.value == datetime(2028, 1, 1, tzinfo=UTC)
    assert model.timeline["a.com"] == {renewed.id, late_registration.id}


def test_pending_verification_shows_on_a_live_domain_until_verified() -> None:
    registered = domain_event("r", Source.OPENSRS, EventType.DOMAIN_REGISTERED, "b.com", minute=1)
    pending = domain_event(
        "p",
        Source.OPENSRS,
        EventType.DOMAIN_VERIFICATION_STATUS_CHANGED,
        "b.com",
        minute=2,
        outcome=Outcome.NOTIFICATION,
        verification_status="pending",
    )
    verified = domain_event(
        "v",
        Source.OPENSRS,
        EventType.DOMAIN_VERIFICATION_STATUS_CHANGED,
        "b.com",
        minute=3,
        verification_status="verified",
    )
    key = DomainKey(provider="opensrs", name="b.com")
    assert fold([registered, pending]).domains[key].status == "pending_verification"
    assert fold([registered, pending, verified]).domains[key].status == "registered"


def test_batch_completed_for_an_unknown_batch_creates_it_and_stage1_arriving_later_changes_no_order() -> None:
    done = batch_event(
        "c", EventType.ORDER_BATCH_COMPLETED, "B9", [("o1", "a.com", "COMPLETED"), ("o2", "b.com", "FAILED")], minute=20
    )
    stage1 = batch_event(
        "r",
        EventType.ORDER_BATCH_REGISTERED,
        "B9",
        [("o1", "a.com", "REGISTERED"), ("o2", "b.com", "FAILED")],
        minute=10,
    )
    batch = fold([done]).batches[BatchKey(provider="most", batch_id="B9")]
    assert batch.status == "completed"
    assert batch.stage1_finished is None
    batch = fold([done, stage1]).batches[BatchKey(provider="most", batch_id="B9")]
    assert batch.status_counts == {"COMPLETED": 1, "FAILED": 1}
    assert batch.stage1_finished is not None
    assert batch.stage2_finished is not None


def test_per_order_events_alone_make_a_batch_that_is_registered_once_every_order_cleared_stage_1() -> None:
    model = fold(
        [
            order_event("1", "B2", "o1", "a.com", "REGISTERED", minute=1),
            order_event("2", "B2", "o2", "b.com", "SETTING_NS", minute=2),
        ]
    )
    batch = model.batches[BatchKey(provider="most", batch_id="B2")]
    assert batch.status == "registered"
    assert set(batch.orders) == {"o1", "o2"}


def test_task_keeps_its_items_and_no_secret() -> None:
    task = event(
        "t",
        Source.MOST,
        EventType.TASK_COMPLETED,
        minute=1,
        key="T1",
        outcome=Outcome.FAILURE,
        data={
            "task_id": "T1",
            "task_type": "domain.get_auth_info",
            "status": "PARTIAL",
            "items": [
                {
                    "domain": "a.com",
                    "ok": True,
                    "data": {"authInfo": "s3cret", "recipient": "x"},
                    "secret_withheld": True,
                }
            ],
        },
    )
    state = fold([task]).tasks[TaskKey(provider="most", task_id="T1")]
    assert state.report is not None
    assert state.report.value.status == "PARTIAL"
    assert "s3cret" not in state.model_dump_json()


def test_transfers_and_opensrs_orders_reach_a_terminal_state() -> None:
    pending = domain_event(
        "1",
        Source.OPENSRS,
        EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
        "c.com",
        minute=1,
        outcome=Outcome.NOTIFICATION,
        transfer_id="T7",
        transfer_status="pending_owner",
    )
    done = domain_event(
        "2",
        Source.OPENSRS,
        EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
        "c.com",
        minute=2,
        transfer_id="T7",
        transfer_status="completed",
    )
    order = order_event("3", None, "O5", "c.com", "declined", minute=3, source=Source.OPENSRS)
    model = fold([done, pending, order])
    transfer = model.operations[OperationKey(kind=OperationKind.TRANSFER, provider="opensrs", op_id="T7")]
    assert transfer.current is not None
    assert transfer.current.value.terminal
    assert [h.status for h in transfer.history] == ["pending_owner", "completed"]
    assert model.domains[DomainKey(provider="opensrs", name="c.com")].status == "transferred_in"
    opensrs_order = model.operations[OperationKey(kind=OperationKind.ORDER, provider="opensrs", op_id="O5")]
    assert opensrs_order.current is not None
    assert opensrs_order.current.value.status == "declined"


def test_the_pipelines_own_events_update_nothing() -> None:
    own = domain_event("own", Source.OPENSRS, EventType.DOMAIN_EXPIRING, "d.com", minute=1)
    own = own.model_copy(update={"transport": Transport.PIPELINE})
    model = fold([own])
    assert not model.domains
    assert not model.timeline
