"""Operations on stored records and consumer groups: re-normalize a range of the raw topic, redrive the
quarantine, and reset any stage's consumer group to an offset, a time, the earliest or the latest offset.

The `regpipe-replay` CLI (`regpipe.replay.cli`) is the way in; the functions below are what it calls.

    ReplayError
    ├── RangeError          a topic, partition, offset or time range that does not exist or cannot be read
    └── ActiveGroupError    a consumer group that still has members, so its offsets must not be reset

Publishing failures surface as `regpipe.normalize.StageError`.
"""

from regpipe.replay.errors import ActiveGroupError, RangeError, ReplayError
from regpipe.replay.groups import (
    GroupState,
    PartitionReset,
    ResetPlan,
    ResetTarget,
    Whence,
    apply_reset,
    committed_offsets,
    describe_group,
    plan_reset,
)
from regpipe.replay.ranges import PartitionRange, RangeSpec, TopicReader
from regpipe.replay.remap import RemapReport, RemapTopics, redrive_quarantine, renormalize

__all__ = [
    "ActiveGroupError",
    "GroupState",
    "PartitionRange",
    "PartitionReset",
    "RangeError",
    "RangeSpec",
    "RemapReport",
    "RemapTopics",
    "ReplayError",
    "ResetPlan",
    "ResetTarget",
    "TopicReader",
    "Whence",
    "apply_reset",
    "committed_offsets",
    "describe_group",
    "plan_reset",
    "redrive_quarantine",
    "renormalize",
]
