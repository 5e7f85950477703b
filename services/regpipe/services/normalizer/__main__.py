"""Entry point: `regpipe-normalizer` or `python -m regpipe.services.normalizer`."""

from __future__ import annotations

import asyncio

from regpipe.observability.logging import configure_logging
from regpipe.services.normalizer.app import SERVICE, run
from regpipe.services.normalizer.settings import NormalizerSettings


def main() -> None:
    """Read settings from the environment and run until stopped."""
    settings = NormalizerSettings()
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
