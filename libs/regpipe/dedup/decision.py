"""The pure decision of the deduplicator for one event, given what it has already published."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from regpipe.contract.envelope import CanonicalEvent

__all__ = ["Decision", "SeenEntry", "Verdict", "collision_id", "decide"]


class Verdict(StrEnum):
    """What to do with an event."""

    PUBLISH = "publish"  # first time this id is seen
    DUPLICATE = "duplicate"  # same id, same content (or an older/newer mapper's rendering of it): drop
    COLLISION = "collision"  # same id, different content from the same mapper: keep both, under a derived id
    CORRECTION = "correction"  # a replay whose content differs from what was published: published on purpose


@dataclass(frozen=True, slots=True)
class SeenEntry:
    """What the deduplicator remembers of a published id."""

    fingerprint: bytes
    mapper_version: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict, and the id the event is published under (None when dropped)."""

    verdict: Verdict
    publish_id: uuid.UUID | None


def collision_id(event_id: uuid.UUID, digest: bytes) -> uuid.UUID:
    """The id of the second, different payload that claimed `event_id`: deterministic, so a replay of it dedups."""
    return uuid.uuid5(event_id, digest.hex())


def decide(event: CanonicalEvent, digest: bytes, seen: SeenEntry | None, *, seen_collision: bool) -> Decision:
    """Decide for one event.

    `seen` is the entry of `event.id`; `seen_collision` tells whether the collision id of this digest was published.
    A different fingerprint under another mapper version is a re-mapping (a replay after a mapper change), not a
    second payload: it is dropped unless it comes as a correction. A correction is published only when its content
    differs from what was published under its id: a replay that re-maps an event to the same content is a
    duplicate, so the public topic carries corrections for changed events and nothing else.
    """
    if event.correction:
        if seen is not None and seen.fingerprint == digest:
            return Decision(Verdict.DUPLICATE, None)
        return Decision(Verdict.CORRECTION, event.id)
    if seen is None:
        return Decision(Verdict.PUBLISH, event.id)
    if seen.fingerprint == digest or seen.mapper_version != event.mapper_version:
        return Decision(Verdict.DUPLICATE, None)
    if seen_collision:
        return Decision(Verdict.DUPLICATE, None)
    return Decision(Verdict.COLLISION, collision_id(event.id, digest))
