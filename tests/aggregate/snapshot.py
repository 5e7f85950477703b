"""The read model as the tables hold it, in the pure fold's shape, so a test can compare the two."""

from __future__ import annotations

import asyncpg

from regpipe.aggregate.fold import (
    BatchKey,
    BatchState,
    ColdMailOrderState,
    DomainKey,
    DomainState,
    OperationKey,
    OperationState,
    ReadModel,
    TaskKey,
    TaskState,
)


async def snapshot(dsn: str) -> ReadModel:
    """Every aggregate state and timeline id the tables hold."""
    conn = await asyncpg.connect(dsn)
    try:
        model = ReadModel()
        for row in await conn.fetch("SELECT state FROM agg_domains"):
            d = DomainState.model_validate_json(row["state"])
            model.domains[DomainKey(provider=d.provider, account=d.account, name=d.name)] = d
        for row in await conn.fetch("SELECT state FROM agg_order_batches"):
            b = BatchState.model_validate_json(row["state"])
            model.batches[BatchKey(provider=b.provider, batch_id=b.batch_id)] = b
        for row in await conn.fetch("SELECT state FROM agg_tasks"):
            t = TaskState.model_validate_json(row["state"])
            model.tasks[TaskKey(provider=t.provider, task_id=t.task_id)] = t
        for row in await conn.fetch("SELECT state FROM agg_coldmail_orders"):
            c = ColdMailOrderState.model_validate_json(row["state"])
            model.coldmail_orders[c.order_id] = c
        for row in await conn.fetch("SELECT state FROM agg_operations"):
            o = OperationState.model_validate_json(row["state"])
            model.operations[OperationKey(kind=o.kind, provider=o.provider, op_id=o.op_id)] = o
        for row in await conn.fetch("SELECT domain, event_id FROM agg_timeline"):
            model.timeline.setdefault(row["domain"], set()).add(row["event_id"])
        return model
    finally:
        await conn.close()


def assert_same_model(actual: ReadModel, expected: ReadModel) -> None:
    """Aggregate by aggregate, so a failure names the table that differs."""
    assert actual.domains.keys() == expected.domains.keys()
    for key, state in expected.domains.items():
        assert actual.domains[key] == state, key
    assert actual.batches == expected.batches
    assert actual.tasks == expected.tasks
    assert actual.coldmail_orders == expected.coldmail_orders
    assert actual.operations == expected.operations
    assert actual.timeline == expected.timeline
