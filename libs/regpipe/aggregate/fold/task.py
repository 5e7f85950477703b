"""The Most bulk-task aggregate: type, status and per-item results of the latest `task.completed` (provider time).

Items come from the canonical event, whose model has no field for an auth code: none can reach this state.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from regpipe.aggregate.fold.stamp import Register, later, stamp_of
from regpipe.contract import CanonicalEvent
from regpipe.contract.events import TaskCompleted

__all__ = ["TaskKey", "TaskState", "step_task"]


# A dataclass rather than a model: a key is built for every event and hashed at every lookup, from values the
# event's validation already checked.
@dataclass(frozen=True, slots=True, kw_only=True)
class TaskKey:
    """Which task an event is about."""

    provider: str
    task_id: str


class TaskState(BaseModel):
    """A task and its latest report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    task_id: str
    report: Register[TaskCompleted] | None = None


# Parametrised once, as in `domain`: subscripting a generic model on every event costs a cache lookup each time.
_ReportRegister = Register[TaskCompleted]


def step_task(state: TaskState | None, key: TaskKey, event: CanonicalEvent) -> TaskState:
    """Fold one `task.completed` into the task's state (pure, idempotent, commutative)."""
    if state is None:
        state = TaskState(provider=key.provider, task_id=key.task_id)
    if not isinstance(event.data, TaskCompleted):
        return state
    report = _ReportRegister(value=event.data, at=stamp_of(event))
    return state.model_copy(update={"report": later(state.report, report)})
