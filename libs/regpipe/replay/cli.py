"""`regpipe-replay`: re-normalize the raw topic, redrive the quarantine, reset any stage's consumer group.

    regpipe-replay renormalize [--partition P] [--from-offset A] [--to-offset B] [--from-time T] [--to-time T]
                               [--corrections] [--dry-run]
    regpipe-replay redrive-quarantine [range options] [--reason R]... [--source S]... [--requarantine]
                                      [--corrections] [--dry-run]
    regpipe-replay reset-group --group G [--topic T] (--to-earliest | --to-latest | --to-offset N | --to-time T)
                               [--partition P] [--execute]

Ranges are `[from, to)`; times are ISO 8601 (UTC when no zone is given). Every command prints a JSON report.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn, TypeVar

import orjson
import structlog
import typer

from regpipe.contract.errors import SealError
from regpipe.contract.sealing import RawSealer, parse_keyring
from regpipe.kafka.connection import KafkaConnection
from regpipe.kafka.topics import Topic
from regpipe.normalize.errors import StageError
from regpipe.normalize.processor import Processor
from regpipe.normalize.registry import default_mappers
from regpipe.replay.errors import ReplayError
from regpipe.replay.groups import ResetTarget, Whence, apply_reset, plan_reset
from regpipe.replay.ranges import RangeSpec
from regpipe.replay.remap import RemapTopics, redrive_quarantine, renormalize
from regpipe.runtime.settings import KafkaSettings

__all__ = ["app", "main"]

_T = TypeVar("_T")

app = typer.Typer(add_completion=False, help="Replay raw or quarantined records, reset consumer groups.")

_Bootstrap = Annotated[str, typer.Option("--bootstrap-servers", envvar="KAFKA_BOOTSTRAP_SERVERS")]
_Partition = Annotated[int | None, typer.Option("--partition", help="Only this partition (default: all).")]
_FromOffset = Annotated[int | None, typer.Option("--from-offset", help="First offset (inclusive).")]
_ToOffset = Annotated[int | None, typer.Option("--to-offset", help="End offset (exclusive).")]
_FromTime = Annotated[str | None, typer.Option("--from-time", help="From the first record at or after this time.")]
_ToTime = Annotated[str | None, typer.Option("--to-time", help="Up to the first record at or after this time.")]
_Corrections = Annotated[
    bool, typer.Option("--corrections", help="Publish as corrections (published only where the content changed).")
]
_DryRun = Annotated[bool, typer.Option("--dry-run", help="Map and count, publish nothing.")]
# Secrets are meant to come from the environment (the flag is hidden), so they stay out of process listings.
_SealKeys = Annotated[str, typer.Option(envvar="RAW_SEAL_KEYS", hidden=True, show_default=False)]
_RawTopic = Annotated[str, typer.Option("--raw-topic")]
_NormalizedTopic = Annotated[str, typer.Option("--normalized-topic")]
_QuarantineTopic = Annotated[str, typer.Option("--quarantine-topic")]


def _connection(bootstrap_servers: str) -> KafkaConnection:
    # The login (KAFKA_SASL_*, KAFKA_TLS*) comes from the environment only, like every service's.
    return KafkaSettings(kafka_bootstrap_servers=bootstrap_servers).kafka_connection()


@app.command("renormalize")
def renormalize_command(
    bootstrap_servers: _Bootstrap,
    partition: _Partition = None,
    from_offset: _FromOffset = None,
    to_offset: _ToOffset = None,
    from_time: _FromTime = None,
    to_time: _ToTime = None,
    corrections: _Corrections = False,
    dry_run: _DryRun = False,
    raw_seal_keys: _SealKeys = "",
    raw_topic: _RawTopic = Topic.RAW.value,
    normalized_topic: _NormalizedTopic = Topic.NORMALIZED.value,
) -> None:
    """Re-read a range of the raw topic, map it with the current mappers, publish to the normalized topic."""
    spec = _spec(partition, from_offset, to_offset, from_time, to_time)
    processor = _processor(raw_seal_keys, corrections)
    topics = RemapTopics(raw=raw_topic, normalized=normalized_topic)
    report = _run(renormalize(_connection(bootstrap_servers), processor, spec, topics=topics, dry_run=dry_run))
    _print(report.as_dict())


@app.command("redrive-quarantine")
def redrive_command(
    bootstrap_servers: _Bootstrap,
    partition: _Partition = None,
    from_offset: _FromOffset = None,
    to_offset: _ToOffset = None,
    from_time: _FromTime = None,
    to_time: _ToTime = None,
    reason: Annotated[list[str] | None, typer.Option("--reason", help="Only records with this reason.")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="Only records of this source.")] = None,
    requarantine: Annotated[
        bool, typer.Option("--requarantine", help="Quarantine again what still fails (with its new reason).")
    ] = False,
    corrections: _Corrections = False,
    dry_run: _DryRun = False,
    raw_seal_keys: _SealKeys = "",
    quarantine_topic: _QuarantineTopic = Topic.QUARANTINE.value,
    normalized_topic: _NormalizedTopic = Topic.NORMALIZED.value,
) -> None:
    """Map quarantined records again; publish what maps now, report what still fails."""
    spec = _spec(partition, from_offset, to_offset, from_time, to_time)
    processor = _processor(raw_seal_keys, corrections)
    topics = RemapTopics(quarantine=quarantine_topic, normalized=normalized_topic)
    report = _run(
        redrive_quarantine(
            _connection(bootstrap_servers),
            processor,
            spec,
            reasons=reason or (),
            sources=source or (),
            requarantine=requarantine,
            topics=topics,
            dry_run=dry_run,
        )
    )
    _print(report.as_dict())


@app.command("reset-group")
def reset_group_command(
    bootstrap_servers: _Bootstrap,
    group: Annotated[str, typer.Option("--group", help="The consumer group (of any stage).")],
    topic: Annotated[str, typer.Option("--topic", help="The topic whose offsets to move.")] = Topic.RAW.value,
    partition: _Partition = None,
    to_earliest: Annotated[bool, typer.Option("--to-earliest")] = False,
    to_latest: Annotated[bool, typer.Option("--to-latest")] = False,
    to_offset: Annotated[int | None, typer.Option("--to-offset", help="This offset (clamped per partition).")] = None,
    to_time: Annotated[str | None, typer.Option("--to-time", help="The first offset at or after this time.")] = None,
    execute: Annotated[bool, typer.Option("--execute", help="Apply the reset (default: only show it).")] = False,
) -> None:
    """Show (default) or apply (`--execute`) a reset of a group's committed offsets; the group must be idle."""
    chosen = [to_earliest, to_latest, to_offset is not None, to_time is not None]
    if sum(chosen) != 1:
        _fail("choose exactly one of --to-earliest, --to-latest, --to-offset, --to-time")
    if to_earliest:
        target = ResetTarget(Whence.EARLIEST)
    elif to_latest:
        target = ResetTarget(Whence.LATEST)
    elif to_offset is not None:
        target = ResetTarget(Whence.OFFSET, offset=to_offset)
    else:
        target = ResetTarget(Whence.TIME, time=_time(to_time))
    plan = _run(plan_reset(_connection(bootstrap_servers), group, topic, target, partition=partition))
    if execute:
        _run(apply_reset(_connection(bootstrap_servers), plan))
    elif plan.group.active:
        typer.echo(f"note: the group has {plan.group.members} active member(s); --execute would be refused", err=True)
    _print(
        {
            "group": plan.group_id,
            "topic": plan.topic,
            "state": plan.group.state,
            "members": plan.group.members,
            "executed": execute,
            "partitions": [
                {
                    "partition": row.partition,
                    "current": row.current,
                    "target": row.target,
                    "end": row.end,
                    "lag": row.lag,
                }
                for row in plan.partitions
            ],
            "total_lag": sum(row.lag for row in plan.partitions),
        }
    )


def _spec(
    partition: int | None, from_offset: int | None, to_offset: int | None, from_time: str | None, to_time: str | None
) -> RangeSpec:
    return RangeSpec(
        partition=partition,
        from_offset=from_offset,
        to_offset=to_offset,
        from_time=_time(from_time),
        to_time=_time(to_time),
    )


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"not an ISO 8601 time: {text!r}")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _processor(seal_keys: str, corrections: bool) -> Processor:
    try:
        # Replays only open sealed values, so no key is active.
        sealer = RawSealer(parse_keyring(seal_keys), None)
    except SealError as exc:
        _fail(f"RAW_SEAL_KEYS: {exc}")
    return Processor(default_mappers(), sealer, correction=corrections)


def _run(job: Coroutine[Any, Any, _T]) -> _T:
    try:
        return asyncio.run(job)
    except (ReplayError, StageError) as exc:
        _fail(str(exc))


def _print(report: dict[str, Any]) -> None:
    typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def main() -> None:
    """Console-script entry point."""
    # Reports go to stdout as JSON; logs (e.g. retries while a fresh cluster elects its group coordinator) to stderr.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(message)s")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    app()


if __name__ == "__main__":
    main()
