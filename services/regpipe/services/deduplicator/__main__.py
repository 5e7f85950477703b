"""Entry point: `regpipe-deduplicator` or `python -m regpipe.services.deduplicator`."""

from __future__ import annotations

import asyncio

from regpipe.observability.logging import configure_logging
from regpipe.services.deduplicator.app import SERVICE, run
from regpipe.services.deduplicator.settings import DeduplicatorSettings


def main() -> None:
    """Read settings from the environment and run until stopped."""
    settings = DeduplicatorSettings()
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
