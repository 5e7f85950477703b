"""The deduplicator's pure decision and fingerprint."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from regpipe.contract import Transport
from regpipe.dedup import SeenEntry, Verdict, decide, fingerprint
from regpipe.dedup.decision import collision_id
from tests.dedup.events import expiring

_ID = uuid.UUID("11111111-1111-1111-1111-111111111111")


def test_first_sighting_is_published_under_its_own_id() -> None:
    event = expiring(_ID)
    decision = decide(event, fingerprint(event), None, seen_collision=False)
    assert decision.verdict is Verdict.PUBLISH
    assert decision.publish_id == _ID


def test_same_content_again_is_a_duplicate() -> None:
    event = expiring(_ID)
    digest = fingerprint(event)
    decision = decide(event, digest, SeenEntry(digest, "most/1.0.0"), seen_collision=False)
    assert decision.verdict is Verdict.DUPLICATE
    assert decision.publish_id is None


def test_fingerprint_ignores_route_time_and_verbatim_provider_fields() -> None:
    by_poll = expiring(_ID, transport=Transport.POLL, provider_fields={"order_id": "0"})
    by_mail = expiring(
        _ID, transport=Transport.EMAIL, provider_fields={"order_id": "zero"}, time=datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert fingerprint(by_poll) == fingerprint(by_mail)


def test_different_content_under_one_id_is_a_collision_kept_under_a_derived_id() -> None:
    first = expiring(_ID, checkpoint=7)
    second = expiring(_ID, checkpoint=3)
    digest = fingerprint(second)
    assert digest != fingerprint(first)
    decision = decide(second, digest, SeenEntry(fingerprint(first), "most/1.0.0"), seen_collision=False)
    assert decision.verdict is Verdict.COLLISION
    assert decision.publish_id == collision_id(_ID, digest) != _ID


def test_a_collision_seen_before_is_a_duplicate() -> None:
    first = expiring(_ID, checkpoint=7)
    second = expiring(_ID, checkpoint=3)
    seen = SeenEntry(fingerprint(first), "most/1.0.0")
    assert decide(second, fingerprint(second), seen, seen_collision=True).verdict is Verdict.DUPLICATE


def test_remapping_by_another_mapper_version_is_a_duplicate_not_a_collision() -> None:
    old = expiring(_ID, checkpoint=7, mapper_version="most/1.0.0")
    new = expiring(_ID, checkpoint=3, mapper_version="most/1.1.0")
    seen = SeenEntry(fingerprint(old), "most/1.0.0")
    assert decide(new, fingerprint(new), seen, seen_collision=False).verdict is Verdict.DUPLICATE


def test_a_correction_that_changes_the_content_is_published_on_purpose() -> None:
    published = expiring(_ID, checkpoint=7)
    event = expiring(_ID, checkpoint=3, mapper_version="most/1.1.0", correction=True)
    seen = SeenEntry(fingerprint(published), "most/1.0.0")
    decision = decide(event, fingerprint(event), seen, seen_collision=False)
    assert decision.verdict is Verdict.CORRECTION
    assert decision.publish_id == _ID


def test_a_correction_that_changes_nothing_is_a_duplicate() -> None:
    event = expiring(_ID, mapper_version="most/1.1.0", correction=True)
    digest = fingerprint(event)
    decision = decide(event, digest, SeenEntry(digest, "most/1.0.0"), seen_collision=False)
    assert decision.verdict is Verdict.DUPLICATE
    assert decision.publish_id is None


def test_a_correction_of_an_id_never_published_is_published() -> None:
    event = expiring(_ID, correction=True)
    assert decide(event, fingerprint(event), None, seen_collision=False).verdict is Verdict.CORRECTION
