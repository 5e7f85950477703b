"""Entry point: `regpipe-console` or `python -m regpipe.services.console`."""

from __future__ import annotations

import asyncio
import logging

from regpipe.observability.logging import configure_logging
from regpipe.services.console.app import SERVICE, run
from regpipe.services.console.settings import ConsoleSettings


def main() -> None:
    """Read settings from the environment and serve until stopped."""
    settings = ConsoleSettings()
    configure_logging(SERVICE, settings.log_level)
    # httpx logs every request with its URL at INFO; the pages' paths carry domain names and ids, not secrets,
    # but the noise drowns the service's own lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
