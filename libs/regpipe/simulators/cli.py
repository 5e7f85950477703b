"""`regpipe-simulators run`: serve the OpenSRS and OpusDNS API simulators and send every provider's events on a tick.

For a stack run by hand or by docker-compose; `regpipe-stack demo` runs the same world inside the demo.
"""

from __future__ import annotations

import asyncio
import signal

import orjson
import typer

from regpipe.observability.logging import configure_logging
from regpipe.simulators.opensrs.mail import MailboxTarget
from regpipe.simulators.world import WorldConfig, WorldEndpoints, run_world

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, help="Simulated providers: Most, Cold Mail Reseller, OpenSRS, OpusDNS.")


@app.command()
def run(
    receiver_url: str = typer.Option("", envvar="SIM_RECEIVER_URL", help="Webhook receiver base URL (empty: none)."),
    most_secret: str = typer.Option(..., envvar="MOST_WEBHOOK_SECRETS", help="Standard Webhooks whsec_ secret."),
    coldmail_token: str = typer.Option(..., envvar="COLDMAIL_WEBHOOK_SECRETS"),
    coldmail_token_header: str = typer.Option("x-webhook-token", envvar="COLDMAIL_TOKEN_HEADER"),
    opensrs_user: str = typer.Option("reseller", envvar="OPENSRS_USERNAME"),
    opensrs_key: str = typer.Option(..., envvar="OPENSRS_API_KEY"),
    opensrs_port: int = typer.Option(55443, envvar="SIM_OPENSRS_PORT"),
    opusdns_api_key: str = typer.Option(..., envvar="OPUSDNS_API_KEY"),
    opusdns_port: int = typer.Option(8380, envvar="SIM_OPUSDNS_PORT"),
    host: str = typer.Option("127.0.0.1", envvar="SIM_HOST"),
    imap_host: str = typer.Option("", envvar="IMAP_HOST", help="Mailbox to mail OpenSRS events to (empty: none)."),
    imap_port: int = typer.Option(143, envvar="IMAP_PORT"),
    imap_username: str = typer.Option("", envvar="IMAP_USERNAME"),
    imap_password: str = typer.Option("", envvar="IMAP_PASSWORD"),
    tick_s: float = typer.Option(5.0, envvar="SIM_TICK_S"),
    per_tick: int = typer.Option(2, envvar="SIM_PER_TICK"),
    seed: int = typer.Option(7, envvar="SIM_SEED"),
) -> None:
    """Run until SIGINT/SIGTERM."""
    configure_logging("simulators")
    imap = (
        MailboxTarget(host=imap_host, port=imap_port, username=imap_username, password=imap_password)
        if imap_host
        else None
    )
    config = WorldConfig(
        receiver_url=receiver_url or None,
        most_secret=most_secret,
        coldmail_token=coldmail_token,
        coldmail_token_header=coldmail_token_header,
        opensrs_user=opensrs_user,
        opensrs_key=opensrs_key,
        opusdns_api_key=opusdns_api_key,
        imap=imap,
        host=host,
        opensrs_port=opensrs_port,
        opusdns_port=opusdns_port,
        seed=seed,
        tick_s=tick_s,
        per_tick=per_tick,
    )

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def ready(world: WorldEndpoints) -> None:
            typer.echo(orjson.dumps({"opensrs_url": world.opensrs_url, "opusdns_url": world.opusdns_url}).decode())

        await run_world(config, stop, ready)

    asyncio.run(_main())


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
