"""The closed vocabularies of the canonical contract: sources, transports, outcomes and event types.

Every canonical event type other teams may consume is listed here and nowhere else; the mapping table from
provider events to these types lives in docs/taxonomy.md.
"""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    """The upstream provider an event came from (the CloudEvents `source`)."""

    MOST = "most"
    COLDMAIL = "coldmail"
    OPENSRS = "opensrs"
    OPUSDNS = "opusdns"


class Transport(StrEnum):
    """How a raw record reached us."""

    WEBHOOK = "webhook"
    POLL = "poll"
    EMAIL = "email"
    # Not a provider route: an event the pipeline synthesised itself (the aggregator's settled orders and expiry
    # checkpoints); consumers tell the pipeline's events from the provider's by it, and the aggregator skips its own.
    PIPELINE = "pipeline"


class Outcome(StrEnum):
    """What the event says about the operation behind it."""

    SUCCESS = "success"
    FAILURE = "failure"
    NOTIFICATION = "notification"
    CANCELED = "canceled"


class EventType(StrEnum):
    """The canonical event types (CloudEvents `type`), grouped by the thing they are about."""

    # domain lifecycle
    DOMAIN_CREATED = "domain.created"
    DOMAIN_REGISTERED = "domain.registered"
    DOMAIN_REGISTRATION_FAILED = "domain.registration_failed"
    DOMAIN_RENEWED = "domain.renewed"
    DOMAIN_RENEWAL_FAILED = "domain.renewal_failed"
    DOMAIN_EXPIRING = "domain.expiring"
    DOMAIN_EXPIRED = "domain.expired"
    DOMAIN_DELETING = "domain.deleting"
    DOMAIN_DELETED = "domain.deleted"
    DOMAIN_DELETION_FAILED = "domain.deletion_failed"
    DOMAIN_MODIFIED = "domain.modified"
    DOMAIN_MODIFICATION_FAILED = "domain.modification_failed"
    DOMAIN_NAMESERVERS_UPDATED = "domain.nameservers_updated"
    DOMAIN_NAMESERVERS_UPDATE_FAILED = "domain.nameservers_update_failed"
    DOMAIN_AUTH_INFO_RETRIEVED = "domain.auth_info_retrieved"
    DOMAIN_AUTH_INFO_FAILED = "domain.auth_info_failed"
    DOMAIN_BLOCKED = "domain.blocked"
    DOMAIN_COMPLAINT_RECEIVED = "domain.complaint_received"
    DOMAIN_TRANSFER_STATUS_CHANGED = "domain.transfer.status_changed"
    DOMAIN_VERIFICATION_STATUS_CHANGED = "domain.verification.status_changed"
    DOMAIN_ZONE_CHECK_STATUS_CHANGED = "domain.zone_check.status_changed"
    DOMAIN_REGISTRANT_CHANGE_STATUS_CHANGED = "domain.registrant_change.status_changed"
    DOMAIN_TRANSIT = "domain.transit"
    DOMAIN_WITHDRAWN = "domain.withdrawn"
    DOMAIN_OPERATION_NOTIFICATION = "domain.operation.notification"
    # orders, order batches and bulk tasks
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_CLAIM_STATUS_CHANGED = "order.claim_status_changed"
    ORDER_BATCH_REGISTERED = "order_batch.registered"
    ORDER_BATCH_COMPLETED = "order_batch.completed"
    ORDER_SETTLED = "order.settled"
    TASK_COMPLETED = "task.completed"
    # other registry objects (OpusDNS contacts, hosts, raw registry messages)
    CONTACT_EVENT = "contact.event"
    HOST_EVENT = "host.event"
    REGISTRY_MESSAGE = "registry.message"
    VANITY_NS_STATUS_CHANGED = "vanity_ns.status_changed"
    # account
    ACCOUNT_BALANCE_LOW = "account.balance_low"
    ACCOUNT_MESSAGE = "account.message"
    # mailboxes and subscriptions (Cold Mail Reseller)
    MAILBOX_ORDER_SUCCEEDED = "mailbox_order.succeeded"
    MAILBOX_ORDER_FAILED = "mailbox_order.failed"
    MAILBOX_CREATED = "mailbox.created"
    MAILBOX_UPDATED = "mailbox.updated"
    SUBSCRIPTION_RENEWING = "subscription.renewing"
    SUBSCRIPTION_RENEWED = "subscription.renewed"
    SUBSCRIPTION_RENEWAL_FAILED = "subscription.renewal_failed"
    PREWARMUP_ORDER_SUCCEEDED = "prewarmup_order.succeeded"
    PREWARMUP_ORDER_FAILED = "prewarmup_order.failed"
