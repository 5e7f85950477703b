"""Pure mapping of one Most webhook (raw record) to canonical events, following docs/taxonomy.md.

`task.completed` yields the task event plus one per-domain event per result item; order-batch events yield the
batch event plus one `order.status_changed` per order (and, for `orders.registered`, one `domain.registered` or
`domain.registration_failed` per order). EPP auth codes (`authInfo`) never leave this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from pydantic import JsonValue, ValidationError

from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events import (
    AccountBalanceLow,
    BatchOrder,
    DomainAuthInfoFailed,
    DomainAuthInfoRetrieved,
    DomainBlocked,
    DomainComplaintReceived,
    DomainDeleting,
    DomainExpiring,
    DomainNameserversUpdated,
    DomainNameserversUpdateFailed,
    DomainRegistered,
    DomainRegistrationFailed,
    DomainRenewalFailed,
    DomainRenewed,
    EventData,
    OrderBatchCompleted,
    OrderBatchRegistered,
    OrderStatusChanged,
    ProviderError,
    TaskCompleted,
    TaskItem,
)
from regpipe.contract.events.base import withhold_secrets
from regpipe.contract.ids import content_fingerprint
from regpipe.contract.taxonomy import EventType, Outcome
from regpipe.providers.kit import (
    EventFactory,
    decode_json,
    parse_payload,
    parse_time,
    payload_domain,
    provider_error,
    quarantines_hostile_shapes,
    schema_violation,
    screen_kept_strings,
    withhold_known_secrets,
)
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from regpipe.providers.most import payloads

__all__ = ["MAPPER_VERSION", "map_record"]

MAPPER_VERSION: Final = "most/1.0.0"

_TASK_OUTCOMES: Final = {"COMPLETED": Outcome.SUCCESS, "PARTIAL": Outcome.FAILURE, "FAILED": Outcome.FAILURE}
_ORDER_OUTCOMES: Final = {"COMPLETED": Outcome.SUCCESS, "FAILED": Outcome.FAILURE}
# Orders in these states have cleared stage 1 (registration) when `orders.registered` fires.
_REGISTERED_STATES: Final = frozenset({"REGISTERED", "SETTING_NS", "COMPLETED"})
#: The documented secret of a `domain.get_auth_info` result (camelCase as Most writes it, snake_case accepted).
_AUTH_INFO_FIELDS: Final = frozenset({"authInfo", "auth_info"})


@quarantines_hostile_shapes
def map_record(raw: RawInput) -> list[CanonicalEvent]:
    """Map one Most webhook body to its canonical events; raise `MappingError` when it cannot be mapped."""
    document = decode_json(raw.body)
    envelope = parse_payload(payloads.MostEnvelope, document, "envelope")
    try:
        kind = payloads.MostEventType(envelope.type)
    except ValueError:
        raise MappingError(QuarantineReason.UNKNOWN_EVENT_TYPE, "not a Most event type") from None
    if kind is payloads.MostEventType.TASK_COMPLETED and envelope.data.get("type") == payloads.TaskType.GET_AUTH_INFO:
        withhold_known_secrets(envelope.extras, where="envelope")  # it carries EPP auth codes: allow-list only
    envelope_extras, _ = withhold_secrets(envelope.extras)
    factory = EventFactory(
        raw=raw,
        mapper_version=MAPPER_VERSION,
        provider_event_id=envelope.id or content_fingerprint(raw.body),
        provider_event_type=envelope.type,
        time=parse_time(envelope.created_at, field="created_at"),
        extra_fields={"envelope": envelope_extras} if envelope_extras else {},
    )
    try:
        return _HANDLERS[kind](factory, envelope.data)
    except ValidationError as exc:
        raise schema_violation(exc) from exc


def _error(value: payloads.ErrorValue | None) -> ProviderError | None:
    return provider_error(value, code_keys=("code", "error_code"), detail_keys=("message", "detail", "error"))


def _kept(*sources: dict[str, Any]) -> dict[str, JsonValue]:
    merged: dict[str, Any] = {}
    for source in sources:
        merged.update(source)
    cleaned, _ = withhold_secrets(merged)
    return dict(cleaned)


def _task(factory: EventFactory, payload: dict[str, JsonValue]) -> list[CanonicalEvent]:
    task = parse_payload(payloads.Task, payload, "data")
    time = parse_time(task.completed_at, field="completed_at") or factory.time
    items: list[TaskItem] = []
    fanned: list[CanonicalEvent] = []
    secret_bearing = task.type == payloads.TaskType.GET_AUTH_INFO
    task_fields = _kept(task.extras) if not secret_bearing else _auth_info_task_fields(task.extras)
    for index, item in enumerate(task.result):
        domain = payload_domain(item.domain)
        if secret_bearing:
            item_data, item_extras, withheld, error = _auth_info_item(item, index)
        else:
            item_data, data_secret = withhold_secrets(item.data or {})
            item_extras, extra_secret = withhold_secrets(item.extras)
            withheld, error = data_secret or extra_secret, _error(item.error)
        items.append(
            TaskItem(
                domain=domain,
                ok=item.ok,
                data=item_data,
                error=error,
                secret_withheld=withheld,
                provider_fields=item_extras,
            )
        )
        if domain is not None:
            fanned.extend(_task_item_events(factory, task, index, domain, item.ok, item_data, item_extras, error, time))
    status = task.status.upper()
    data = TaskCompleted(
        task_id=task.task_id,
        task_type=task.type,
        status=task.status,
        created_at=parse_time(task.created_at, field="created_at"),
        completed_at=parse_time(task.completed_at, field="completed_at"),
        items=items,
        succeeded_count=sum(1 for item in items if item.ok),
        failed_count=sum(1 for item in items if not item.ok),
        provider_fields=task_fields,
    )
    outcome = _TASK_OUTCOMES.get(status, Outcome.NOTIFICATION)
    summary = factory.event(EventType.TASK_COMPLETED, outcome, data, fallback_key=task.task_id, time=time)
    if secret_bearing:
        for event in (summary, *fanned):
            screen_kept_strings(event.data, where=event.type.value)
    return [summary, *fanned]


def _auth_info_task_fields(extras: dict[str, Any]) -> dict[str, JsonValue]:
    """The provider fields of a `domain.get_auth_info` task, read by allow-list: a fatal task `error` keeps its code."""
    fields = dict(extras)
    error = _error(fields.pop("error", None))
    withhold_known_secrets(fields, where="data")
    return {"error": {"code": error.code}} if error is not None and error.code is not None else {}


def _auth_info_item(
    item: payloads.TaskResultItem, index: int
) -> tuple[dict[str, JsonValue], dict[str, JsonValue], bool, ProviderError | None]:
    """(data, provider fields, secret withheld, error) of a `domain.get_auth_info` item, read by allow-list.

    The error keeps its code only: registries quote the auth code in their messages.
    """
    where = f"data.result[{index}]"
    item_secret = withhold_known_secrets(item.extras, where=where)
    data = item.data or {}
    result = parse_payload(payloads.AuthInfoResult, data, f"{where}.data")
    data_secret = withhold_known_secrets(result.extras, _AUTH_INFO_FIELDS, where=f"{where}.data")
    kept = {key: value for key, value in data.items() if key not in result.extras}
    error = _error(item.error)
    return kept, {}, item_secret or data_secret, None if error is None else ProviderError(code=error.code)


def _task_item_events(
    factory: EventFactory,
    task: payloads.Task,
    index: int,
    domain: str,
    ok: bool,
    item_data: dict[str, JsonValue],
    item_extras: dict[str, JsonValue],
    error: ProviderError | None,
    time: datetime | None,
) -> list[CanonicalEvent]:
    common: dict[str, Any] = {"domain": domain, "task_id": task.task_id, "item_index": index, "error": error}
    outcome = Outcome.SUCCESS if ok else Outcome.FAILURE
    data: EventData
    if task.type == payloads.TaskType.RENEW:
        renew = parse_payload(payloads.RenewResult, item_data, f"data.result[{index}].data")
        kept = _kept(renew.extras, item_extras)
        if ok:
            expiry = parse_time(renew.new_expiry, field="new_expiry")
            data = DomainRenewed(**common, expires_at=expiry, period_years=renew.term, provider_fields=kept)
            event_type = EventType.DOMAIN_RENEWED
        else:
            kept = _kept({"newExpiry": item_data["newExpiry"]} if "newExpiry" in item_data else {}, kept)
            data = DomainRenewalFailed(**common, period_years=renew.term, provider_fields=kept)
            event_type = EventType.DOMAIN_RENEWAL_FAILED
    elif task.type == payloads.TaskType.SET_NAMESERVERS:
        ns_result = parse_payload(payloads.NameserversResult, item_data, f"data.result[{index}].data")
        nameservers = [name.strip().rstrip(".").lower() for name in ns_result.nameservers]
        kept = _kept(ns_result.extras, item_extras)
        model = DomainNameserversUpdated if ok else DomainNameserversUpdateFailed
        data = model(**common, nameservers=nameservers, provider_fields=kept)
        event_type = EventType.DOMAIN_NAMESERVERS_UPDATED if ok else EventType.DOMAIN_NAMESERVERS_UPDATE_FAILED
    elif task.type == payloads.TaskType.GET_AUTH_INFO:
        # item_data holds the recipient only (`_auth_info_item`); the auth code never leaves this module.
        result = parse_payload(payloads.AuthInfoResult, item_data, f"data.result[{index}].data")
        kept = _kept(result.extras, item_extras)
        if ok:
            data = DomainAuthInfoRetrieved(**common, auth_info_delivered_to=result.recipient, provider_fields=kept)
            event_type = EventType.DOMAIN_AUTH_INFO_RETRIEVED
        else:
            recipient = {"recipient": result.recipient} if result.recipient is not None else {}
            data = DomainAuthInfoFailed(**common, provider_fields=_kept(recipient, kept))
            event_type = EventType.DOMAIN_AUTH_INFO_FAILED
    else:
        # A task type Most adds later: its items stay in task.completed; no per-domain meaning to guess.
        return []
    return [factory.event(event_type, outcome, data, domain=domain, item_index=index, time=time)]


def _batch(factory: EventFactory, payload: dict[str, JsonValue], registered_stage: bool) -> list[CanonicalEvent]:
    batch = parse_payload(payloads.OrderBatch, payload, "data")
    orders: list[BatchOrder] = []
    per_order: list[CanonicalEvent] = []
    for index, order in enumerate(batch.orders):
        domain = payload_domain(order.domain)
        status = (order.status or "").upper()
        error = _error(order.error)
        extras = _kept(order.extras)
        orders.append(
            BatchOrder(order_id=order.order_id, domain=domain, status=order.status, error=error, provider_fields=extras)
        )
        if order.order_id is None:
            continue
        change = OrderStatusChanged(
            order_id=order.order_id,
            domain=domain,
            order_status=order.status,
            batch_id=batch.batch_id,
            item_index=index,
            error=error,
            provider_fields=extras,
        )
        outcome = _ORDER_OUTCOMES.get(status, Outcome.NOTIFICATION)
        per_order.append(
            factory.event(
                EventType.ORDER_STATUS_CHANGED,
                outcome,
                change,
                domain=domain,
                fallback_key=order.order_id,
                item_index=index,
            )
        )
        if registered_stage and domain is not None:
            per_order.extend(_registration(factory, batch.batch_id, index, order.order_id, domain, status, error))
    failed = (
        batch.failed if batch.failed is not None else sum(1 for o in orders if (o.status or "").upper() == "FAILED")
    )
    model = OrderBatchRegistered if registered_stage else OrderBatchCompleted
    data = model(
        batch_id=batch.batch_id,
        orders=orders,
        registered_count=batch.registered,
        failed_count=batch.failed,
        completed_count=batch.completed,
        provider_fields=_kept(batch.extras),
    )
    event_type = EventType.ORDER_BATCH_REGISTERED if registered_stage else EventType.ORDER_BATCH_COMPLETED
    outcome = Outcome.SUCCESS if failed == 0 else Outcome.FAILURE
    return [factory.event(event_type, outcome, data, fallback_key=batch.batch_id), *per_order]


def _registration(
    factory: EventFactory,
    batch_id: str,
    index: int,
    order_id: str,
    domain: str,
    status: str,
    error: ProviderError | None,
) -> list[CanonicalEvent]:
    batch_ref: dict[str, JsonValue] = {"batchId": batch_id}
    if status in _REGISTERED_STATES:
        registered = DomainRegistered(domain=domain, order_id=order_id, provider_fields=batch_ref)
        return [
            factory.event(EventType.DOMAIN_REGISTERED, Outcome.SUCCESS, registered, domain=domain, item_index=index)
        ]
    if status == "FAILED":
        failed = DomainRegistrationFailed(domain=domain, order_id=order_id, error=error, provider_fields=batch_ref)
        return [
            factory.event(
                EventType.DOMAIN_REGISTRATION_FAILED, Outcome.FAILURE, failed, domain=domain, item_index=index
            )
        ]
    return []


def _orders_registered(factory: EventFactory, payload: dict[str, JsonValue]) -> list[CanonicalEvent]:
    return _batch(factory, payload, registered_stage=True)


def _orders_completed(factory: EventFactory, payload: dict[str, JsonValue]) -> list[CanonicalEvent]:
    return _batch(factory, payload, registered_stage=False)


def _expiring(factory: EventFactory, payload: dict[str, JsonValue]) -> list[CanonicalEvent]:
    notice = parse_payload(payloads.DomainExpiring, payload, "data")
    domain = payload_domain(notice.domain)
    data = DomainExpiring(
        domain=domain,
        domain_id=notice.domain_id,
        checkpoint=notice.checkpoint,
        days_left=notice.days_left,
        expires_at=parse_time(notice.expires_at, field="expires_at"),
        provider_fields=_kept(notice.extras),
    )
    return [factory.event(EventType.DOMAIN_EXPIRING, Outcome.NOTIFICATION, data, domain=domain)]


def _deleting(factory: EventFactory, payload: dict[str, JsonValue]) -> list[CanonicalEvent]:
    notice = parse_payload(payloads.DomainDeleting, payload, "data")
    domain = payload_domain(notice.domain)
    data = DomainDeleting(
        domain=domain,
        domain_id=notice.domain_id,
        expires_at=parse_time(notice.expires_at, field="expires_at"),
        deletes_at=parse_time(notice.delete_at, field="delete_at"),
        provider_fields=_kept(notice.extras),
    )
    return [factory.event(EventType.DOMAIN_DELETING, Outcome.NOTIFICATION, data, domain=domain)]


def _blocked(factory: EventFactory, payload: dict[str, JsonValue]) -> list[CanonicalEvent]:
    notice = parse_payload(payloads.DomainBlocked, payload, "data")
    domain = payload_domain(notice.domain)
    data = DomainBlocked(
        domain=domain,
        domain_id=notice.domain_id,
        reason=notice.reason,
        blocked_by=notice.source,
        registrar=notice.registrar,
        provider_fields=_kept(notice.extras),
    )
    return [factory.event(EventType.DOMAIN_BLOCKED, Outcome.NOTIFICATION, data, domain=domain)]


def _complaint(factory: EventFactory, payload: dict[str, JsonValue]) -> list[CanonicalEvent]:
    notice = parse_payload(payloads.DomainComplaint, payload, "data")
    domain = payload_domain(notice.domain)
    data = DomainComplaintReceived(
        domain=domain,
        domain_id=notice.domain_id,
        complaint_id=notice.complaint_id,
        category=notice.category,
        details=notice.details,
        received_at=parse_time(notice.received_at, field="received_at"),
        respond_by=parse_time(notice.respond_by, field="respond_by"),
        provider_fields=_kept(notice.extras),
    )
    return [factory.event(EventType.DOMAIN_COMPLAINT_RECEIVED, Outcome.NOTIFICATION, data, domain=domain)]


def _balance_low(factory: EventFactory, payload: dict[str, JsonValue]) -> list[CanonicalEvent]:
    balance = parse_payload(payloads.BalanceLow, payload, "data")
    account = factory.raw.headers.account
    data = AccountBalanceLow(
        account=account,
        threshold=balance.threshold,
        balance=balance.balance,
        currency=balance.currency,
        balance_source=balance.source,
        provider_fields=_kept(balance.extras),
    )
    key = f"account:{account}" if account else None
    return [factory.event(EventType.ACCOUNT_BALANCE_LOW, Outcome.NOTIFICATION, data, fallback_key=key)]


_HANDLERS: Final[dict[payloads.MostEventType, Callable[[EventFactory, dict[str, JsonValue]], list[CanonicalEvent]]]] = {
    payloads.MostEventType.TASK_COMPLETED: _task,
    payloads.MostEventType.ORDERS_REGISTERED: _orders_registered,
    payloads.MostEventType.ORDERS_COMPLETED: _orders_completed,
    payloads.MostEventType.DOMAIN_EXPIRING: _expiring,
    payloads.MostEventType.DOMAIN_DELETING: _deleting,
    payloads.MostEventType.DOMAIN_BLOCKED: _blocked,
    payloads.MostEventType.DOMAIN_COMPLAINT: _complaint,
    payloads.MostEventType.BALANCE_LOW: _balance_low,
}
