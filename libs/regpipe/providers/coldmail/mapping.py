"""Pure mapping of one Cold Mail Reseller webhook (raw record) to its canonical event, following docs/taxonomy.md.

Each provider event maps to exactly one canonical event. Passwords, app passwords and authenticator (TOTP) secrets
that mailbox and pre-warm-up payloads carry in plaintext never leave this module; `credentials_withheld` says when
some were removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from pydantic import JsonValue, ValidationError

from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events import (
    DomainRegistered,
    DomainRegistrationFailed,
    DomainRenewalFailed,
    DomainRenewed,
    MailboxCreated,
    MailboxOrderFailed,
    MailboxOrderSucceeded,
    MailboxUpdated,
    PrewarmedMailbox,
    PrewarmupOrderFailed,
    PrewarmupOrderSucceeded,
    SubscriptionRenewalFailed,
    SubscriptionRenewed,
    SubscriptionRenewing,
    User,
)
from regpipe.contract.events.base import withhold_secrets
from regpipe.contract.ids import content_fingerprint
from regpipe.contract.taxonomy import EventType, Outcome
from regpipe.providers.coldmail import payloads
from regpipe.providers.coldmail.payloads import ColdMailEventType as _Kind
from regpipe.providers.kit import (
    EventFactory,
    decode_json,
    domain_of_address,
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

__all__ = ["MAPPER_VERSION", "map_record"]

MAPPER_VERSION: Final = "coldmail/1.0.0"

#: Event types whose payloads carry mailbox credentials: read by allow-list (`regpipe.providers.kit`).
_CREDENTIAL_EVENTS: Final = frozenset(
    {_Kind.MAILBOX_CREATED, _Kind.MAILBOX_UPDATED, _Kind.PREWARMUP_ORDER_SUCCESS, _Kind.PREWARMUP_ORDER_FAILED}
)
#: The credentials Cold Mail documents in those payloads; they are withheld, never published.
_MAILBOX_SECRETS: Final = frozenset({"password", "appPassword", "authenticatorSecret"})


@quarantines_hostile_shapes
def map_record(raw: RawInput) -> list[CanonicalEvent]:
    """Map one Cold Mail webhook body to its canonical event; raise `MappingError` when it cannot be mapped."""
    envelope = parse_payload(payloads.ColdMailEnvelope, decode_json(raw.body), "envelope")
    try:
        kind = _Kind(envelope.event)
    except ValueError:
        raise MappingError(QuarantineReason.UNKNOWN_EVENT_TYPE, "not a Cold Mail event type") from None
    carries_credentials = kind in _CREDENTIAL_EVENTS
    if carries_credentials:
        withhold_known_secrets(envelope.extras, where="envelope")
    envelope_extras, _ = withhold_secrets(envelope.extras)
    factory = EventFactory(
        raw=raw,
        mapper_version=MAPPER_VERSION,
        provider_event_id=envelope.event_id or content_fingerprint(raw.body),
        provider_event_type=envelope.event,
        extra_fields={"envelope": envelope_extras} if envelope_extras else {},
    )
    try:
        event = _HANDLERS[kind](factory, envelope.data, kind)
    except ValidationError as exc:
        raise schema_violation(exc) from exc
    if carries_credentials:
        screen_kept_strings(event.data, where=event.type.value)
    return [event]


def _domain(value: str | None, *, email: str | None = None) -> str | None:
    # A mailbox's domain is its address's domain when the payload does not name it.
    return payload_domain(value if value is not None else domain_of_address(email))


def _required_domain(value: str | None, *, email: str | None = None) -> str:
    domain = _domain(value, email=email)
    if domain is None:
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, "data: no domain name")
    return domain


def _user(user_id: str | None, email: str | None) -> User | None:
    if user_id is None and email is None:
        return None
    return User(user_id=user_id, email=email)


def _kept(extras: dict[str, Any]) -> tuple[dict[str, JsonValue], bool]:
    cleaned, removed = withhold_secrets(extras)
    return dict(cleaned), removed


def _domain_order(factory: EventFactory, data: dict[str, JsonValue], kind: _Kind) -> CanonicalEvent:
    order = parse_payload(payloads.DomainOrder, data, "data")
    domain = _required_domain(order.domain_name)
    kept, _ = _kept(order.extras)
    common: dict[str, Any] = {
        "domain": domain,
        "domain_id": order.domain_id,
        "order_id": order.order_id,
        "price": order.price,
        "user": _user(order.user_id, order.user_email),
        "message": order.message,
        "error": provider_error(order.error),
    }
    if kind is _Kind.DOMAIN_ORDER_SUCCESS:
        registered = DomainRegistered(
            **common,
            registered_at=parse_time(order.creation_time, field="creation_time"),
            expires_at=parse_time(order.expiry_date, field="expiry_date"),
            provider_fields=kept,
        )
        time = parse_time(order.creation_time, field="creation_time")
        return factory.event(EventType.DOMAIN_REGISTERED, Outcome.SUCCESS, registered, time=time, domain=domain)
    times = {"creationTime": data["creationTime"]} if "creationTime" in data else {}
    failed = DomainRegistrationFailed(**common, provider_fields={**times, **kept})
    return factory.event(EventType.DOMAIN_REGISTRATION_FAILED, Outcome.FAILURE, failed, domain=domain)


def _domain_renewal(factory: EventFactory, data: dict[str, JsonValue], kind: _Kind) -> CanonicalEvent:
    renewal = parse_payload(payloads.DomainRenewal, data, "data")
    domain = _required_domain(renewal.domain_name)
    kept, _ = _kept(renewal.extras)
    common: dict[str, Any] = {
        "domain": domain,
        "domain_id": renewal.domain_id,
        "period_years": renewal.years,
        "user": _user(renewal.user_id, renewal.user_email),
        "message": renewal.message,
        "error": provider_error(renewal.error),
    }
    if kind is _Kind.DOMAIN_RENEWAL_SUCCESS:
        renewed = DomainRenewed(
            **common, expires_at=parse_time(renewal.expire_on, field="expire_on"), provider_fields=kept
        )
        return factory.event(EventType.DOMAIN_RENEWED, Outcome.SUCCESS, renewed, domain=domain)
    expiry = {"expireOn": data["expireOn"]} if "expireOn" in data else {}
    failed = DomainRenewalFailed(**common, provider_fields={**expiry, **kept})
    return factory.event(EventType.DOMAIN_RENEWAL_FAILED, Outcome.FAILURE, failed, domain=domain)


def _mailbox_order(factory: EventFactory, data: dict[str, JsonValue], kind: _Kind) -> CanonicalEvent:
    order = parse_payload(payloads.MailboxOrder, data, "data")
    domain = _required_domain(order.domain_name)
    kept, _ = _kept(order.extras)
    common: dict[str, Any] = {
        "domain": domain,
        "domain_id": order.domain_id,
        "user": _user(order.user_id, order.user_email),
        "order_id": order.order_id,
        "subscription_id": order.subscription_id,
        "workspace_type": order.workspace_type,
        "quantity": order.quantity,
        "price": order.price,
        "message": order.message,
        "error": provider_error(order.error),
    }
    time = parse_time(order.creation_time, field="creation_time")
    if kind is _Kind.MAILBOX_ORDER_SUCCESS:
        succeeded = MailboxOrderSucceeded(
            **common,
            created_at=time,
            expires_at=parse_time(order.expiry_date, field="expiry_date"),
            provider_fields=kept,
        )
        return factory.event(EventType.MAILBOX_ORDER_SUCCEEDED, Outcome.SUCCESS, succeeded, time=time, domain=domain)
    times = {key: data[key] for key in ("creationTime", "expiryDate") if key in data}
    failed = MailboxOrderFailed(**common, provider_fields={**times, **kept})
    return factory.event(EventType.MAILBOX_ORDER_FAILED, Outcome.FAILURE, failed, domain=domain)


def _mailbox(factory: EventFactory, data: dict[str, JsonValue], kind: _Kind) -> CanonicalEvent:
    mailbox = parse_payload(payloads.Mailbox, data, "data")
    domain = _required_domain(mailbox.domain_name, email=mailbox.email)
    withheld = withhold_known_secrets(mailbox.extras, _MAILBOX_SECRETS, where="data")
    created = kind is _Kind.MAILBOX_CREATED
    model = MailboxCreated if created else MailboxUpdated
    event_data = model(
        domain=domain,
        domain_id=mailbox.domain_id,
        mailbox_id=mailbox.mailbox_id,
        email=mailbox.email,
        first_name=mailbox.first_name,
        last_name=mailbox.last_name,
        profile_picture=mailbox.profile_picture,
        user=_user(mailbox.user_id, mailbox.user_email),
        subscription_id=mailbox.subscription_id,
        workspace_type=mailbox.workspace_type,
        is_admin=mailbox.is_admin,
        created_at=parse_time(mailbox.creation_time, field="creation_time"),
        updated_at=parse_time(mailbox.updated_time, field="updated_time"),
        credentials_withheld=withheld,
        message=mailbox.message,
        error=provider_error(mailbox.error),
    )
    time = (
        parse_time(mailbox.creation_time, field="creation_time")
        if created
        else parse_time(mailbox.updated_time, field="updated_time")
    )
    event_type = EventType.MAILBOX_CREATED if created else EventType.MAILBOX_UPDATED
    return factory.event(event_type, Outcome.SUCCESS, event_data, time=time, domain=domain)


_SUBSCRIPTION: Final = {
    _Kind.SUBSCRIPTION_RENEWING: (EventType.SUBSCRIPTION_RENEWING, Outcome.NOTIFICATION, SubscriptionRenewing),
    _Kind.SUBSCRIPTION_RENEWAL_SUCCESS: (EventType.SUBSCRIPTION_RENEWED, Outcome.SUCCESS, SubscriptionRenewed),
    _Kind.SUBSCRIPTION_RENEWAL_FAILED: (
        EventType.SUBSCRIPTION_RENEWAL_FAILED,
        Outcome.FAILURE,
        SubscriptionRenewalFailed,
    ),
}


def _subscription(factory: EventFactory, data: dict[str, JsonValue], kind: _Kind) -> CanonicalEvent:
    subscription = parse_payload(payloads.Subscription, data, "data")
    domain = _required_domain(subscription.domain_name)
    kept, _ = _kept(subscription.extras)
    event_type, outcome, model = _SUBSCRIPTION[kind]
    event_data = model(
        domain=domain,
        domain_id=subscription.domain_id,
        subscription_id=subscription.subscription_id,
        user=_user(subscription.user_id, subscription.user_email),
        workspace_type=subscription.workspace_type,
        quantity=subscription.quantity,
        period_start=parse_time(subscription.period_start, field="period_start"),
        period_end=parse_time(subscription.period_end, field="period_end"),
        auto_renew=subscription.auto_renew,
        description=subscription.description,
        subscription_status=subscription.subscription_status,
        message=subscription.message,
        error=provider_error(subscription.error),
        provider_fields=kept,
    )
    # A successful renewal starts the new period: the best time the payload gives for when it happened.
    time = (
        parse_time(subscription.period_start, field="period_start")
        if kind is _Kind.SUBSCRIPTION_RENEWAL_SUCCESS
        else None
    )
    return factory.event(event_type, outcome, event_data, time=time, domain=domain)


def _prewarmup(factory: EventFactory, data: dict[str, JsonValue], kind: _Kind) -> CanonicalEvent:
    order = parse_payload(payloads.PrewarmupOrder, data, "data")
    # Pre-warmed mailboxes come with their credentials: every level is read by allow-list, nothing unmodelled kept.
    withhold_known_secrets(order.extras, where="data")
    mailboxes: list[PrewarmedMailbox] = []
    for index, details in enumerate(order.mailbox_details):
        where = f"data.mailboxDetails[{index}]"
        withhold_known_secrets(details.extras, where=where)
        detail_domain = _domain(details.domain)
        for mailbox in details.mailboxes:
            withheld = withhold_known_secrets(mailbox.extras, _MAILBOX_SECRETS, where=f"{where}.preWarmedUpMailboxes")
            mailboxes.append(
                PrewarmedMailbox(
                    domain=detail_domain or _domain(None, email=mailbox.email),
                    subscription_id=details.subscription_id,
                    mailbox_id=mailbox.mailbox_id,
                    email=mailbox.email,
                    first_name=mailbox.first_name,
                    last_name=mailbox.last_name,
                    profile_picture=mailbox.profile_picture,
                    is_admin=mailbox.is_admin,
                    warming_up_from=mailbox.warming_up_from,
                    expires_at=parse_time(mailbox.expiry_date, field="expiry_date"),
                    credentials_withheld=withheld,
                )
            )
    succeeded = kind is _Kind.PREWARMUP_ORDER_SUCCESS
    model = PrewarmupOrderSucceeded if succeeded else PrewarmupOrderFailed
    event_data = model(
        order_id=order.order_id,
        user=_user(order.user_id, order.user_email),
        service_provider=order.service_provider,
        mailboxes=mailboxes,
        message=order.message,
        error=provider_error(order.error),
    )
    event_type = EventType.PREWARMUP_ORDER_SUCCEEDED if succeeded else EventType.PREWARMUP_ORDER_FAILED
    outcome = Outcome.SUCCESS if succeeded else Outcome.FAILURE
    return factory.event(event_type, outcome, event_data, fallback_key=order.order_id)


_HANDLERS: Final[dict[_Kind, Callable[[EventFactory, dict[str, JsonValue], _Kind], CanonicalEvent]]] = {
    _Kind.DOMAIN_ORDER_SUCCESS: _domain_order,
    _Kind.DOMAIN_ORDER_FAILED: _domain_order,
    _Kind.DOMAIN_RENEWAL_SUCCESS: _domain_renewal,
    _Kind.DOMAIN_RENEWAL_FAILED: _domain_renewal,
    _Kind.MAILBOX_ORDER_SUCCESS: _mailbox_order,
    _Kind.MAILBOX_ORDER_FAILED: _mailbox_order,
    _Kind.MAILBOX_CREATED: _mailbox,
    _Kind.MAILBOX_UPDATED: _mailbox,
    _Kind.SUBSCRIPTION_RENEWING: _subscription,
    _Kind.SUBSCRIPTION_RENEWAL_SUCCESS: _subscription,
    _Kind.SUBSCRIPTION_RENEWAL_FAILED: _subscription,
    _Kind.PREWARMUP_ORDER_SUCCESS: _prewarmup,
    _Kind.PREWARMUP_ORDER_FAILED: _prewarmup,
}
