"""`regpipe-delivery` (or `python -m regpipe.services.delivery`): the service, and its operator commands.

`run` (the default) runs the service. `subscriptions ...` and `redeliver ...` call the same command functions as
the admin API, directly on PostgreSQL (POSTGRES_DSN); they print JSON. A new or rotated secret is printed once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import asyncpg
import orjson
import typer
from pydantic import BaseModel, ValidationError

from regpipe.delivery import redelivery, subscriptions
from regpipe.delivery.errors import DeliveryError
from regpipe.delivery.models import SubscriptionSpec
from regpipe.observability.logging import configure_logging
from regpipe.services.delivery.app import SERVICE, create_guard, run
from regpipe.services.delivery.settings import DeliverySettings

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, help=__doc__, no_args_is_help=False)
subscriptions_app = typer.Typer(add_completion=False, help="Create, list, rotate, enable and disable subscriptions.")
redeliver_app = typer.Typer(add_completion=False, help="Send stored events to an endpoint again (same webhook-id).")
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(redeliver_app, name="redeliver")

_T = TypeVar("_T")


def _utc(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is UTC."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {text!r}") from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _print(value: Any) -> None:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _with_pool(action: Callable[[DeliverySettings, asyncpg.Pool], Awaitable[_T]]) -> _T:
    settings = DeliverySettings()
    configure_logging(SERVICE, "WARNING")

    async def go() -> _T:
        pool = await asyncpg.create_pool(settings.postgres_dsn.get_secret_value(), min_size=1, max_size=2)
        try:
            return await action(settings, pool)
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except (DeliveryError, ValidationError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


@app.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        run_service()


@app.command("run")
def run_service() -> None:
    """Run the service (intake, dispatcher, admin API) until SIGTERM/SIGINT."""
    settings = DeliverySettings()
    configure_logging(SERVICE, settings.log_level)
    # httpx logs every request with its full URL at INFO; a subscriber's URL may carry its own token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(run(settings))


@subscriptions_app.command("create")
def create(
    url: str,
    event_type: Annotated[list[str] | None, typer.Option(help="Exact type or `prefix.*`; repeatable")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Repeatable")] = None,
    domain_suffix: Annotated[list[str] | None, typer.Option(help="Repeatable")] = None,
    description: str = "",
    max_concurrency: int = 4,
    rate_limit_per_s: float | None = None,
    ordered: bool = False,
) -> None:
    """Create a subscription; prints it with its secret (shown once)."""

    async def action(settings: DeliverySettings, pool: asyncpg.Pool) -> dict[str, Any]:
        spec = SubscriptionSpec(
            url=url,
            description=description,
            event_types=event_type or [],
            sources=source or [],
            domain_suffixes=domain_suffix or [],
            max_concurrency=max_concurrency,
            rate_limit_per_s=rate_limit_per_s,
            ordered=ordered,
        )
        created = await subscriptions.create_subscription(pool, create_guard(settings), spec, settings.sealer())
        return {
            "subscription": created.subscription.model_dump(mode="json"),
            "secret": created.secret.get_secret_value(),
        }

    _print(_with_pool(action))


@subscriptions_app.command("list")
def list_() -> None:
    """Every subscription with its endpoint's health."""
    _print(_with_pool(lambda _, pool: subscriptions.list_subscriptions(pool)))


@subscriptions_app.command("rotate-secret")
def rotate(subscription_id: uuid.UUID, overlap_s: float = subscriptions.DEFAULT_OVERLAP_S) -> None:
    """A new secret (printed once); the current one keeps signing for --overlap-s."""

    async def action(settings: DeliverySettings, pool: asyncpg.Pool) -> dict[str, Any]:
        rotated = await subscriptions.rotate_secret(pool, subscription_id, overlap_s, settings.sealer())
        return {
            "subscription_id": str(rotated.subscription_id),
            "secret": rotated.secret.get_secret_value(),
            "previous_valid_until": rotated.previous_valid_until.isoformat(),
        }

    _print(_with_pool(action))


@subscriptions_app.command("enable")
def enable(subscription_id: uuid.UUID) -> None:
    """Enable a subscription (its waiting jobs resume)."""
    _print(_with_pool(lambda _, pool: subscriptions.set_enabled(pool, subscription_id, True)))


@subscriptions_app.command("disable")
def disable(subscription_id: uuid.UUID) -> None:
    """Disable a subscription (its jobs wait)."""
    _print(_with_pool(lambda _, pool: subscriptions.set_enabled(pool, subscription_id, False)))


@redeliver_app.command("event")
def redeliver_event(subscription_id: uuid.UUID, event_id: uuid.UUID) -> None:
    """One stored event to one endpoint."""
    _print(_with_pool(lambda _, pool: redelivery.redeliver_event(pool, subscription_id, event_id)))


@redeliver_app.command("range")
def redeliver_range(
    subscription_id: uuid.UUID,
    since: Annotated[str, typer.Option(help="Event time, inclusive (ISO 8601; UTC if no zone)")],
    until: Annotated[str, typer.Option(help="Event time, exclusive")],
) -> None:
    """Every stored event of a time range that matches the endpoint's filters."""
    _print(_with_pool(lambda _, pool: redelivery.redeliver_range(pool, subscription_id, _utc(since), _utc(until))))


@redeliver_app.command("failed")
def redeliver_failed(
    since: Annotated[str, typer.Option(help="Jobs that died at or after this time (ISO 8601; UTC if no zone)")],
    subscription_id: Annotated[uuid.UUID | None, typer.Option(help="Only this endpoint's")] = None,
) -> None:
    """Give every dead job since a time a fresh schedule."""
    _print(_with_pool(lambda _, pool: redelivery.redeliver_failed(pool, _utc(since), subscription_id)))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
