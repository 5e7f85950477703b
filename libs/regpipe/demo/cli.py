"""`regpipe-demo`: the README's run command (the local stack, the provider world and every service, live)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from regpipe.demo.runner import DemoOptions, demo_state_dir, run_demo
from regpipe.observability.logging import configure_logging

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def demo(
    state_dir: Annotated[Path | None, typer.Option(help="Servers' data and logs (default .stack/demo).")] = None,
    duration: Annotated[float, typer.Option(help="Seconds to run (0: until Ctrl+C).")] = 0.0,
    tick: Annotated[float, typer.Option(help="Seconds between two rounds of provider events.")] = 5.0,
    per_tick: Annotated[int, typer.Option(help="Events per provider per round.")] = 2,
    require_all_sources: Annotated[
        bool, typer.Option(help="Exit 1 unless every provider reached the public topic, none doubled.")
    ] = False,
    only: Annotated[
        str | None, typer.Option(help="Run only these services (comma-separated names, e.g. normalizer,deduplicator).")
    ] = None,
    plain: Annotated[
        bool | None, typer.Option("--plain/--live", help="Plain summaries, or the live screen (default: by terminal).")
    ] = None,
) -> None:
    """Start everything, print canonical events as they reach registrar.events.v1, stop cleanly on Ctrl+C."""
    # The terminal shows the event stream; the services' own logs go to files.
    configure_logging("demo", "WARNING")
    options = DemoOptions(
        state_dir=state_dir or demo_state_dir(),
        duration_s=duration,
        tick_s=tick,
        per_tick=per_tick,
        require_all_sources=require_all_sources,
        only=frozenset(name.strip() for name in only.split(",") if name.strip()) if only else None,
        plain=plain,
    )
    code = asyncio.run(run_demo(options))
    raise typer.Exit(code=code)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
