"""Entry point: `regpipe-opusdns-poller` or `python -m regpipe.services.opusdns_poller`."""

from __future__ import annotations

import asyncio

from regpipe.observability.logging import configure_logging
from regpipe.services.opusdns_poller.app import SERVICE, run
from regpipe.services.opusdns_poller.settings import OpusDnsPollerSettings


def main() -> None:
    """Read settings from the environment and run until stopped."""
    settings = OpusDnsPollerSettings()
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
