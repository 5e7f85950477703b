"""Entry point: `regpipe-aggregator` or `python -m regpipe.services.aggregator`."""

from __future__ import annotations

import asyncio

from regpipe.observability.logging import configure_logging
from regpipe.services.aggregator.app import SERVICE, run
from regpipe.services.aggregator.settings import AggregatorSettings


def main() -> None:
    """Read settings from the environment and run until stopped."""
    settings = AggregatorSettings()
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
