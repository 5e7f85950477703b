"""Entry point: `regpipe-opensrs-poller` or `python -m regpipe.services.opensrs_poller`."""

from __future__ import annotations

import asyncio

from regpipe.observability.logging import configure_logging
from regpipe.services.opensrs_poller.app import SERVICE, run
from regpipe.services.opensrs_poller.settings import OpenSRSPollerSettings


def main() -> None:
    """Read settings from the environment and run until stopped."""
    settings = OpenSRSPollerSettings()
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
