"""`regpipe-topics`: create the registry's topics and check existing ones for drift."""

from __future__ import annotations

import asyncio

import orjson
import typer

from regpipe.kafka.admin import ensure_topics
from regpipe.kafka.topics import TOPICS

app = typer.Typer(add_completion=False, help="Create or check the pipeline's Kafka topics.")


@app.command()
def ensure(
    bootstrap_servers: str = typer.Option(..., envvar="KAFKA_BOOTSTRAP_SERVERS"),
    replication_factor: int = typer.Option(1, envvar="KAFKA_REPLICATION_FACTOR"),
) -> None:
    """Create missing topics; exit 1 when an existing topic drifted from the registry."""
    report = asyncio.run(ensure_topics(bootstrap_servers, replication_factor=replication_factor))
    typer.echo(
        orjson.dumps(
            {"created": report.created, "unchanged": report.unchanged, "drift": report.drift},
            option=orjson.OPT_INDENT_2,
        ).decode()
    )
    if not report.ok:
        raise typer.Exit(code=1)


@app.command("list")
def list_topics() -> None:
    """Print the registry."""
    for spec in TOPICS.values():
        typer.echo(f"{spec.name.value}\tpartitions={spec.partitions}\t{spec.config()}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
