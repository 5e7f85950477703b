"""Provider adapters read the event id and type best effort, and the registry names every webhook provider."""

from __future__ import annotations

import orjson
import pytest

from regpipe.contract.taxonomy import Source
from regpipe.providers.coldmail.webhook import COLDMAIL_WEBHOOK
from regpipe.providers.most.webhook import MOST_WEBHOOK
from regpipe.webhooks.adapter import EventIdentity
from regpipe.webhooks.registry import WEBHOOK_ADAPTERS

SEED_COLDMAIL = b"""{
  "event": "domain.order.success",
  "eventId": "6SSHBXWR3N4JEKGRQSG3KW3D76N6",
  "data": {"userId": "PWM7Y25RYZ450YNM8K8FX9GK5AHX", "domainName": "company.com", "price": 15.88}
}"""


def test_registry_maps_url_names_to_their_sources() -> None:
    assert {name: adapter.source for name, adapter in WEBHOOK_ADAPTERS.items()} == {
        "most": Source.MOST,
        "coldmail": Source.COLDMAIL,
    }


def test_coldmail_reads_the_seed_envelope() -> None:
    identity = COLDMAIL_WEBHOOK.identify(orjson.loads(SEED_COLDMAIL), {})
    assert identity == EventIdentity("6SSHBXWR3N4JEKGRQSG3KW3D76N6", "domain.order.success")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"id": "evt_1", "type": "balance.low"}, EventIdentity("evt_1", "balance.low")),
        ({"eventId": "evt_2", "event": "domain.blocked"}, EventIdentity("evt_2", "domain.blocked")),
        ({"event_id": 42, "type": "task.completed"}, EventIdentity("42", "task.completed")),
    ],
)
def test_most_reads_the_assumed_envelope_and_its_aliases(document: object, expected: EventIdentity) -> None:
    assert MOST_WEBHOOK.identify(document, {}) == expected


def test_most_falls_back_to_the_standard_webhooks_message_id() -> None:
    assert MOST_WEBHOOK.identify({"type": "balance.low"}, {"webhook-id": "msg_9"}) == EventIdentity(
        "msg_9", "balance.low"
    )


@pytest.mark.parametrize(
    "document",
    [None, [], "text", 5, {"id": True, "type": None}, {"id": "", "type": {}}, {"id": "x" * 500, "type": "a\nb"}],
)
@pytest.mark.parametrize("adapter", [MOST_WEBHOOK, COLDMAIL_WEBHOOK], ids=["most", "coldmail"])
def test_unreadable_documents_give_no_identity_and_never_raise(document: object, adapter: object) -> None:
    assert adapter.identify(document, {}) == EventIdentity()  # type: ignore[attr-defined]
