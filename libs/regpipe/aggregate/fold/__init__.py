"""The pure centre of the aggregator: events -> state, one module per aggregate, no I/O.

Every aggregate folds with last-writer-wins registers over provider time (or forward-only progress for order
statuses), so its state depends on the set of events only: any interleaving or duplication yields the same state.
"""

from regpipe.aggregate.fold.batch import BatchKey, BatchOrder, BatchState, step_batch
from regpipe.aggregate.fold.coldmail_order import ColdMailItem, ColdMailOrderState, step_coldmail_order
from regpipe.aggregate.fold.domain import DomainKey, DomainState, step_domain
from regpipe.aggregate.fold.model import ReadModel, fold
from regpipe.aggregate.fold.operation import OperationKey, OperationKind, OperationState, step_operation
from regpipe.aggregate.fold.routing import Targets, is_own, targets
from regpipe.aggregate.fold.stamp import Register, Stamp
from regpipe.aggregate.fold.task import TaskKey, TaskState, step_task

__all__ = [
    "BatchKey",
    "BatchOrder",
    "BatchState",
    "ColdMailItem",
    "ColdMailOrderState",
    "DomainKey",
    "DomainState",
    "OperationKey",
    "OperationKind",
    "OperationState",
    "ReadModel",
    "Register",
    "Stamp",
    "Targets",
    "TaskKey",
    "TaskState",
    "fold",
    "is_own",
    "step_batch",
    "step_coldmail_order",
    "step_domain",
    "step_operation",
    "step_task",
    "targets",
]
